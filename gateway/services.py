"""What handlers need, built once per process: the store and the use cases over it."""

from __future__ import annotations

from core.evaluation import EvaluationService
from core.service import SegmentService
from core.store import Store
from core.tokens import TokenService
from gateway.settings import Settings


class Services:
    """Filled when the store opens (lifespan, or a test that opened one itself)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None
        self.segments: SegmentService
        self.tokens: TokenService
        self.evaluation: EvaluationService

    def attach(self, store: Store) -> None:
        self._store = store
        self.segments = SegmentService(store)
        self.tokens = TokenService(store)
        self.evaluation = EvaluationService(store)

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the store is not open yet")
        return self._store
