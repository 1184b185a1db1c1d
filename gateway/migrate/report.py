"""The final report: one line per segment and the counts, as text or as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TextIO

import msgspec

OUTCOMES = ("migrated", "changed", "skipped-existing", "not-expressible", "failed")
"""``changed``: created, but not as it is at the source (the reason says what differs and what
to do about it)."""


@dataclass(frozen=True)
class Entry:
    outcome: str
    name: str
    source_id: str
    target_id: str | None = None
    reason: str | None = None


@dataclass
class Report:
    source: str
    target: str
    dry_run: bool
    entries: list[Entry] = field(default_factory=list)

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(OUTCOMES, 0)
        for e in self.entries:
            out[e.outcome] += 1
        return out

    @property
    def ok(self) -> bool:
        return self.counts()["failed"] == 0

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "dryRun": self.dry_run,
            "counts": self.counts(),
            "segments": [{k: v for k, v in vars(e).items() if v is not None} for e in self.entries],
        }

    def write_json(self, out: TextIO) -> None:
        out.write(msgspec.json.encode(self.as_json()).decode() + "\n")

    def write_text(self, out: TextIO) -> None:
        head = "plan (dry run, nothing written)" if self.dry_run else "migrate"
        out.write(f"{head}: {self.source} -> {self.target}\n")
        width = max((len(e.outcome) for e in self.entries), default=0)
        for e in self.entries:
            ids = f"{e.source_id} -> {e.target_id}" if e.target_id else e.source_id
            why = f": {e.reason}" if e.reason else ""
            out.write(f"  {e.outcome:<{width}}  {e.name!r} [{ids}]{why}\n")
        counts = self.counts()
        label = "would migrate" if self.dry_run else "migrated"
        out.write(
            f"{label}: {counts['migrated']}  skipped-existing: "
            f"{counts['skipped-existing']}  not-expressible: {counts['not-expressible']}  "
            f"failed: {counts['failed']}\n"
        )
        label = "would arrive changed" if self.dry_run else "arrived changed"
        out.write(
            f"{label}: {counts['changed']} (created, but not as at the source: each "
            "'changed' line says what differs and what to do)\n"
        )
