"""What handlers need, built once per process: the store and the use cases over it."""

from __future__ import annotations

from core.cache import ResponseCache, RevisionReads
from core.constraint_segments import ConstraintSegmentService
from core.constraints import ConstraintLimits
from core.evaluation import EvaluationService
from core.flags import FlagService
from core.lifecycle import LifecycleService
from core.profiles import ProfileService
from core.resolve_tokens import signing_key
from core.resolver_service import ResolverService
from core.segment_views import SegmentViews
from core.service import SegmentService
from core.store import Store
from core.tokens import TokenService
from gateway.answers import Answers
from gateway.settings import Settings


class Services:
    """Filled when the store opens (lifespan, or a test that opened one itself)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None
        self.segments: SegmentService
        self.tokens: TokenService
        self.evaluation: EvaluationService
        self.unleash_segments: ConstraintSegmentService
        self.flags: FlagService
        self.lifecycle: LifecycleService
        self.segment_views: SegmentViews
        self.profiles: ProfileService
        self.pages: ResponseCache
        """Encoded list pages per tenant revision (a dialect calls it around its render)."""
        self.revisions: RevisionReads
        """Tenant revisions as caches read them (shared reads; known ones in notify mode)."""
        self.answers = Answers(self)
        """Whole answers to repeated GETs (gateway.answers): handlers mark what may be kept."""
        self.resolver: ResolverService
        """Confidence's resolver over the tenants' flag states (one cache, shared by
        ``flags:resolve`` and OFREP)."""
        self._resolve_key = signing_key(settings.resolve_token_key)
        # Made once per process: a store opened again keeps accepting the tokens it issued.

    def attach(self, store: Store) -> None:
        store.freshness = self.settings.freshness
        self._store = store
        self.revisions = RevisionReads(store)
        self.segments = SegmentService(store)
        self.tokens = TokenService(store)
        self.evaluation = EvaluationService(store)
        limits = ConstraintLimits(segments=self.settings.segment_limit)
        self.unleash_segments = ConstraintSegmentService(store, limits)
        self.flags = FlagService(store, limits)
        self.lifecycle = LifecycleService(store, self.segments)
        self.segment_views = SegmentViews(store, self.segments)
        self.profiles = ProfileService(store, self.segment_views)
        self.pages = ResponseCache(store)
        self.resolver = ResolverService(store, self._resolve_key)

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the store is not open yet")
        return self._store
