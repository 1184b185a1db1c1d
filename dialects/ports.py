"""What the API surfaces need from the process, declared here so that ``dialects/`` never
imports ``gateway/``: the gateway's ``Services`` satisfies these protocols structurally, and a
test may hand a surface anything else that does.

Each surface takes the use cases of ``core/`` it calls, the kept-answers hook, and the few
settings a handler reads (the body limit, the evaluation budget)."""

from __future__ import annotations

from typing import Protocol

from starlette.requests import Request

from core.cache import ResponseCache
from core.constraint_segments import ConstraintSegmentService
from core.evaluation import EvaluationService
from core.flags import FlagService
from core.lifecycle import LifecycleService
from core.model import Principal
from core.profiles import ProfileService
from core.resolver_service import ResolverService
from core.segment_views import SegmentViews
from core.service import SegmentService
from core.store import Store
from core.tokens import TokenService


class KeptAnswers(Protocol):
    async def mark(self, request: Request, who: Principal) -> None:
        """Called by a GET handler after authenticating and before reading anything: its 200
        may be kept and answered again while the token and the tenant's revision stand."""


class HandlerSettings(Protocol):
    @property
    def body_limit(self) -> int:
        """Largest request body in bytes."""

    @property
    def evaluate_budget_ms(self) -> int:
        """CPU time one evaluation request may spend."""

    @property
    def cors_origins(self) -> tuple[str, ...]:
        """Origins whose browser pages may call the APIs made for browsers (``*``: any)."""

    @property
    def resolve_token_key(self) -> str:
        """The secret Confidence resolve tokens are signed with (empty: one per process)."""


class Services(Protocol):
    """The use cases and hooks a surface's handlers call (read-only attributes)."""

    @property
    def settings(self) -> HandlerSettings: ...

    @property
    def store(self) -> Store: ...

    @property
    def tokens(self) -> TokenService: ...

    @property
    def segments(self) -> SegmentService: ...

    @property
    def unleash_segments(self) -> ConstraintSegmentService: ...

    @property
    def flags(self) -> FlagService: ...

    @property
    def lifecycle(self) -> LifecycleService: ...

    @property
    def evaluation(self) -> EvaluationService: ...

    @property
    def segment_views(self) -> SegmentViews: ...

    @property
    def resolver(self) -> ResolverService: ...

    @property
    def profiles(self) -> ProfileService: ...

    @property
    def pages(self) -> ResponseCache: ...

    @property
    def answers(self) -> KeptAnswers: ...
