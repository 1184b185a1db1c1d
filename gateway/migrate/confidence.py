"""Confidence codec (``/v1/segments``; ``confidence.md``): proto3 JSON, paged by
``pageSize``/``nextPageToken``. ``displayName`` is the segment's name; the client chooses the id
with ``?segmentId=`` (kept from a slug source id; when taken, 409, created without it). The
allocation goes along, so a share of the matching units stays a share.

After the segments, :meth:`Codec.carry` takes Confidence's clients and flags along (to a
Confidence target only): a client by its display name, created without credentials (their
secrets cannot be read back; the report says to create new ones), a flag under its own id with
its variants, its rules in order on the target's copies of their segments, and its clients;
an archived flag is archived again. A flag whose rule uses a segment that did not arrive is
not created (a rule on another segment would resolve differently)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import msgspec

from core.expr.languages import LANGUAGES
from core.expr.normalize import normalize
from core.model import SLUG_RE
from dialects.confidence.flag_wire import ClientOut, FlagOut, ListClientsOut, ListFlagsOut
from dialects.confidence.wire import ListOut, SegmentOut
from gateway.migrate.codec import Codec as AnyCodec
from gateway.migrate.codec import parsed
from gateway.migrate.endpoint import Endpoint, expect, failure
from gateway.migrate.item import Allocation, Created, Item, WriteFailed, dynamic_only, optional_text
from gateway.migrate.report import Entry

PATH = "/v1/segments"
PAGE = 100


class Codec:
    dialect = "confidence"

    def __init__(self, endpoint: Endpoint, http: httpx.Client) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {endpoint.token}"}

    def read(self) -> Iterator[Item]:
        token = ""
        while True:
            params: dict[str, Any] = {"pageSize": PAGE}
            if token:
                params["pageToken"] = token
            r = expect(self.http.get(PATH, params=params, headers=self.headers), 200)
            listing = msgspec.json.decode(r.content, type=ListOut)
            yield from (_item(s) for s in listing.segments)
            token = listing.nextPageToken
            if not token:
                return

    def render(self, item: Item) -> dict[str, Any]:
        dynamic_only(item, "confidence", self.dialect)
        body: dict[str, Any] = {"displayName": item.name}
        if item.description is not None:
            body["description"] = item.description
        same, targeting = item.native_in("confidence")
        if not same:
            targeting = LANGUAGES["confidence"].render(normalize(item.expr))
        if targeting:
            body["targeting"] = targeting
        if item.labels:
            body["labels"] = dict(item.labels)
        a = item.allocation
        if not a.is_default:
            body["allocation"] = {
                "proportion": {"value": a.proportion},
                "exclusivityTags": list(a.exclusivity_tags),
                "exclusiveTo": list(a.exclusive_to),
            }
        return body

    def create(self, item: Item, body: dict[str, Any]) -> Created:
        params = {"segmentId": item.slug} if item.slug and SLUG_RE.match(item.slug) else {}
        r = self.http.post(PATH, params=params, json=body, headers=self.headers)
        note = None
        if r.status_code == 409 and params:
            note = f"segmentId {item.slug} is taken on the target: it chose another"
            r = self.http.post(PATH, json=body, headers=self.headers)
        if r.status_code != 200:
            raise WriteFailed(failure(r))
        return Created(msgspec.json.decode(r.content, type=SegmentOut).name, note)

    def _pages(self, path: str, into: type[Any]) -> list[Any]:
        found: list[Any] = []
        token = ""
        while True:
            params: dict[str, Any] = {"pageSize": PAGE}
            if token:
                params["pageToken"] = token
            r = expect(self.http.get(path, params=params, headers=self.headers), 200)
            listing = msgspec.json.decode(r.content, type=into)
            found += listing.flags if isinstance(listing, ListFlagsOut) else listing.clients
            token = listing.nextPageToken
            if not token:
                return found

    def carry(self, dst: AnyCodec, segments: dict[str, str], dry_run: bool) -> list[Entry]:
        """Clients, then flags, onto ``dst``; ``segments`` maps a source segment name
        (``segments/<id>``) to the name its copy has on the target."""
        flags: list[FlagOut] = self._pages("/v1/flags", ListFlagsOut)
        clients: list[ClientOut] = self._pages("/v1/clients", ListClientsOut)
        if not isinstance(dst, Codec):
            reason = f"{dst.dialect} has no Confidence flags or clients"
            return [
                Entry("not-expressible", f"client {c.displayName}", c.name, None, reason)
                for c in clients
            ] + [Entry("not-expressible", f"flag {f.name}", f.name, None, reason) for f in flags]
        client_map, entries = dst._carry_clients(clients, dry_run)
        taken = {f.name for f in dst._pages("/v1/flags", ListFlagsOut)}
        for flag in flags:
            entries.append(dst._carry_flag(flag, taken, segments, client_map, dry_run))
        return entries

    def _carry_clients(
        self, clients: list[ClientOut], dry_run: bool
    ) -> tuple[dict[str, str], list[Entry]]:
        there = {c.displayName: c.name for c in self._pages("/v1/clients", ListClientsOut)}
        mapped: dict[str, str] = {}
        entries: list[Entry] = []
        for c in clients:
            label = f"client {c.displayName}"
            if c.displayName in there:
                mapped[c.name] = there[c.displayName]
                entries.append(
                    Entry(
                        "skipped-existing",
                        label,
                        c.name,
                        there[c.displayName],
                        "a client with this display name exists; flags use it",
                    )
                )
                continue
            if dry_run:
                mapped[c.name] = c.name
                entries.append(
                    Entry(
                        "changed",
                        label,
                        c.name,
                        None,
                        "would be created without credentials (their secrets cannot be read)",
                    )
                )
                continue
            r = self.http.post(
                "/v1/clients",
                headers=self.headers,
                json={"displayName": c.displayName, "labels": c.labels},
            )
            if r.status_code != 200:
                entries.append(Entry("failed", label, c.name, None, failure(r)))
                continue
            made = msgspec.json.decode(r.content, type=ClientOut).name
            mapped[c.name] = made
            entries.append(
                Entry(
                    "changed",
                    label,
                    c.name,
                    made,
                    "created without credentials (their secrets cannot be read): "
                    f"create new ones with POST /v1/{made}/credentials",
                )
            )
        return mapped, entries

    def _carry_flag(
        self,
        flag: FlagOut,
        taken: set[str],
        segments: dict[str, str],
        clients: dict[str, str],
        dry_run: bool,
    ) -> Entry:
        label = f"flag {flag.name}"
        if flag.name in taken:
            return Entry("skipped-existing", label, flag.name, flag.name, "exists")
        missing = sorted({r.segment for r in flag.rules if r.segment not in segments})
        if missing:
            return Entry(
                "failed",
                label,
                flag.name,
                None,
                f"its rules use {', '.join(missing)}, which did not arrive on the "
                "target: migrate those segments first",
            )
        lost = sorted(c for c in flag.clients if c not in clients)
        if lost:
            return Entry(
                "failed",
                label,
                flag.name,
                None,
                f"its clients {', '.join(lost)} did not arrive on the target",
            )
        body = msgspec.to_builtins(flag)
        body["rules"] = [dict(r, segment=segments[r["segment"]]) for r in body.get("rules", [])]
        body["clients"] = [clients[c] for c in flag.clients]
        if dry_run:
            return Entry("migrated", label, flag.name, None, "would be created")
        flag_id = flag.name.removeprefix("flags/")
        r = self.http.post("/v1/flags", params={"flagId": flag_id}, json=body, headers=self.headers)
        if r.status_code != 200:
            return Entry("failed", label, flag.name, None, failure(r))
        if flag.state == "ARCHIVED":
            r = self.http.post(f"/v1/{flag.name}:archive", json={}, headers=self.headers)
            if r.status_code != 200:
                return Entry(
                    "failed",
                    label,
                    flag.name,
                    flag.name,
                    f"created but not archived as at the source ({failure(r)})",
                )
        return Entry("migrated", label, flag.name, flag.name)

    def archive(self, target_id: str) -> None:
        """``:archive`` a segment just created (its source was archived)."""
        r = self.http.post(f"/v1/{target_id}:archive", json={}, headers=self.headers)
        if r.status_code != 200:
            raise WriteFailed(failure(r))


def _item(s: SegmentOut) -> Item:
    slug = s.name.removeprefix("segments/")
    expr, unreadable = (
        (None, None) if s.targeting is None else parsed(LANGUAGES["confidence"].parse, s.targeting)
    )
    a = s.allocation
    allocation = (
        Allocation()
        if a is None
        else Allocation(
            proportion=a.proportion.value if a.proportion is not None else "1",
            exclusivity_tags=tuple(a.exclusivityTags),
            exclusive_to=tuple(a.exclusiveTo),
        )
    )
    return Item(
        name=s.displayName or slug,
        source_id=s.name,
        description=optional_text(s.description),
        expr=expr,
        slug=slug,
        allocation=allocation,
        state=s.state or None,
        labels=tuple(sorted(s.labels.items())),
        unreadable=unreadable,
        native=None if s.targeting is None else ("confidence", s.targeting),
    )
