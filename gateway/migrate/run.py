"""``segmux migrate``: read the source, plan, write (unless a dry run), report."""

from __future__ import annotations

import sys
from typing import TextIO, cast

import httpx
import msgspec

from gateway.migrate.codec import Archiving, Codec, codec_for
from gateway.migrate.endpoint import Endpoint, MigrateError, client
from gateway.migrate.item import Item, WriteFailed
from gateway.migrate.planner import Step, plan
from gateway.migrate.report import Entry, Report


class Progress:
    """A one-line bar on a terminal; nothing when stderr is not one."""

    def __init__(self, total: int, out: TextIO) -> None:
        self.total, self.out, self.done = total, out, 0
        self.on = out.isatty() and total > 0

    def step(self, name: str) -> None:
        self.done += 1
        if self.on:
            filled = 30 * self.done // self.total
            self.out.write(
                f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} {name[:40]:<40}"
            )
            self.out.flush()

    def close(self) -> None:
        if self.on:
            self.out.write("\n")
            self.out.flush()


def migrate(
    source: Endpoint, target: Endpoint, *, dry_run: bool = False, progress: TextIO | None = None
) -> Report:
    report = Report(str(source), str(target), dry_run)
    with client(source) as src_http, client(target) as dst_http:
        src, dst = codec_for(source, src_http), codec_for(target, dst_http)
        items = _read(src, source)
        there = {item.name: item.source_id for item in _read(dst, target)}
        steps = plan(items, dst, set(there))
        bar = Progress(len(steps), sys.stderr if progress is None else progress)
        try:
            for step in steps:
                report.add(_apply(step, dst, dry_run))
                bar.step(step.item.name)
        finally:
            bar.close()
        carry = getattr(src, "carry", None)
        if carry is not None:
            # What rides on segments (Confidence's flags and clients): the codec gets where
            # each source segment went, whether created now or there by name already.
            went = {e.source_id: e.target_id for e in report.entries if e.target_id}
            went |= {i.source_id: there[i.name] for i in items if i.name in there}
            if dry_run:
                went |= {s.item.source_id: s.item.source_id for s in steps if s.action == "create"}
            for entry in carry(dst, went, dry_run):
                report.add(entry)
    return report


def _read(codec: Codec, endpoint: Endpoint) -> list[Item]:
    """Every segment the endpoint lists; an endpoint that cannot be read stops the run."""
    try:
        return list(codec.read())
    except MigrateError as exc:
        raise MigrateError(f"{endpoint}: {exc}") from exc
    except httpx.HTTPError as exc:
        raise MigrateError(f"{endpoint}: {type(exc).__name__}: {exc}") from exc
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise MigrateError(f"{endpoint}: not a {endpoint.dialect} answer: {exc}") from exc


def _apply(step: Step, dst: Codec, dry_run: bool) -> Entry:
    item = step.item
    if step.action == "exists":
        return Entry("skipped-existing", item.name, item.source_id, reason="exists")
    if step.action == "not-expressible":
        return Entry("not-expressible", item.name, item.source_id, reason=step.reason)
    if step.action == "failed":
        return Entry("failed", item.name, item.source_id, reason=step.reason)
    changes = step.arrival.changes
    if dry_run:
        if changes:
            return Entry(
                "changed",
                item.name,
                item.source_id,
                reason="would be created; " + _say(changes, "<its new id>"),
            )
        return Entry("migrated", item.name, item.source_id, reason="would be created")
    try:
        created = dst.create(item, step.body)
    except WriteFailed as exc:
        return Entry("failed", item.name, item.source_id, reason=exc.detail)
    except (httpx.HTTPError, msgspec.ValidationError, msgspec.DecodeError, KeyError) as exc:
        # Created or not, the answer could not be read: say so rather than guess.
        return Entry("failed", item.name, item.source_id, reason=f"{type(exc).__name__}: {exc}")
    notes = [n for n in (created.note, *step.arrival.notes) if n]
    if step.arrival.archive:
        try:
            cast(Archiving, dst).archive(created.target_id)
        except (WriteFailed, httpx.HTTPError) as exc:
            # Live on the target while archived at the source: it would match; say so loudly.
            detail = exc.detail if isinstance(exc, WriteFailed) else str(exc)
            return Entry(
                "failed",
                item.name,
                item.source_id,
                created.target_id,
                f"created but not archived as at the source ({detail}): archive it "
                f"with POST /v1/{created.target_id}:archive",
            )
    if changes:
        return Entry(
            "changed",
            item.name,
            item.source_id,
            created.target_id,
            "; ".join([*notes, _say(changes, created.target_id)]),
        )
    return Entry("migrated", item.name, item.source_id, created.target_id, "; ".join(notes) or None)


def _say(changes: tuple[str, ...], target_id: str) -> str:
    return "; ".join(c.replace("{id}", target_id) for c in changes)
