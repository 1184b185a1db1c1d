"""Unleash wire <-> core: request bodies (after the schema pass) to core inputs, core records to
Unleash's resource shapes (field order as the real server emits them)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import msgspec

from core.constraint_segments import ConstraintSegment, SegmentInput
from core.constraints import SchemaInvalid
from core.flag_records import FlagDetail, FlagEnvironment, RuleInput
from core.model import Flag, NewFlag, SegmentUse
from core.unleash_snapshot import ClientFlag, ClientSnapshot, RuleView
from dialects.unleash import schema
from dialects.unleash.schema import SchemaError

EXT = "unleash"
# Unleash's query schema: a tag filter is ``type:value`` (JavaScript's ASCII \w, unanchored).
_TAG = re.compile(r"\w+:.+", re.ASCII)


def iso_ms(us: int) -> str:
    """µs since the epoch as Unleash writes dates: ISO 8601 UTC, milliseconds, ``Z``."""
    moment = dt.datetime.fromtimestamp(us // 1000 / 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def segment_id_param(raw: str) -> int:
    """The ``{id}`` path parameter: an integer (ajv coerces ``"7"``); others are a 400."""
    value = schema.validate(raw, schema.SEGMENT_ID, "/params/id")
    assert isinstance(value, int)
    return value


# --- segments ----------------------------------------------------------------------------


def segment_input(body: Any, *, create: bool) -> SegmentInput:
    data = schema.validate(
        body, schema.CREATE_SEGMENT if create else schema.UPSERT_SEGMENT, "/body"
    )
    return SegmentInput(
        name=data["name"],
        constraints=data["constraints"],
        description=data.get("description", msgspec.UNSET),
        project=data.get("project"),
        seq=data.get("id") if create else None,
    )


def admin_segment(view: ConstraintSegment, *, usage: bool = False) -> dict[str, Any]:
    s = view.segment
    out: dict[str, Any] = {"id": s.seq, "name": s.name, "description": s.description}
    if view.project is not None:
        out["project"] = view.project
    out["constraints"] = view.constraints
    out["createdBy"] = s.created_by
    out["createdAt"] = iso_ms(s.created_at)
    if usage:
        out["usedInProjects"] = view.used_in_projects
        out["usedInFeatures"] = view.used_in_flags
    return out


def segment_strategies(uses: list[SegmentUse]) -> dict[str, Any]:
    """``/segments/{id}/strategies``: the real server's five fields plus the documentation's
    ``parameters``, ``constraints`` and ``createdAt`` (a harmless superset)."""
    return {
        "strategies": [
            {
                "id": u.rule.id,
                "projectId": u.project,
                "featureName": u.rule.flag,
                "strategyName": u.rule.payload.get("name"),
                "environment": u.rule.environment,
                "parameters": u.rule.payload.get("parameters", {}),
                "constraints": u.rule.payload.get("constraints", []),
                "createdAt": iso_ms(u.rule.created_at),
            }
            for u in uses
        ],
        "changeRequestStrategies": [],
    }


def strategy_segments_input(body: Any) -> dict[str, Any]:
    data: dict[str, Any] = schema.validate(body, schema.STRATEGY_SEGMENTS, "/body")
    return data


# --- features and strategies -------------------------------------------------------------


def new_flag(body: Any) -> NewFlag:
    data = schema.validate(body, schema.CREATE_FEATURE, "/body")
    return NewFlag(
        name=data["name"],
        type=data.get("type") or "release",
        description=data.get("description"),
        extensions={EXT: {"impressionData": bool(data.get("impressionData", False))}},
    )


def feature(flag: Flag) -> dict[str, Any]:
    ext = flag.extensions.get(EXT) or {}
    return {
        "name": flag.name,
        "description": flag.description,
        "type": flag.type,
        "project": flag.project,
        "stale": bool(ext.get("stale", False)),
        "createdAt": iso_ms(flag.created_at),
        "impressionData": bool(ext.get("impressionData", False)),
        "archived": flag.archived,
    }


def rule_input(body: Any, *, update: bool = False) -> RuleInput:
    data = schema.validate(body, schema.UPDATE_STRATEGY if update else schema.STRATEGY, "/body")
    # Absent or null: an update keeps the strategy's segments, as Unleash's does.
    segments = data.get("segments")
    for i, seq in enumerate(segments or []):
        if not isinstance(seq, int):
            raise SchemaError(
                f"/body/segments/{i}",
                f"The `/body/segments/{i}` property must be integer. You sent {seq}.",
            )
    sort_order = data.get("sortOrder")
    if isinstance(sort_order, float):
        raise SchemaError(
            "/body/sortOrder",
            f"The `/body/sortOrder` property must be integer. You sent {sort_order}.",
        )
    return RuleInput(
        name=data["name"],
        title=data.get("title"),
        disabled=data.get("disabled"),
        sort_order=sort_order,
        constraints=data.get("constraints") or [],
        parameters=data.get("parameters") or {},
        variants=data.get("variants") or [],
        segments=segments,
    )


def strategy(view: RuleView, *, listed: bool = False) -> dict[str, Any]:
    """A strategy as the strategy routes answer it. 8.2.0's list adds ``milestoneId`` (release
    plans, which segmux does not have: always null); no route sends ``featureName``."""
    p = view.rule.payload
    out: dict[str, Any] = {
        "id": view.rule.id,
        "name": p.get("name"),
        "constraints": p.get("constraints", []),
        "parameters": p.get("parameters", {}),
        "variants": p.get("variants", []),
        "segments": view.segment_seqs,
        "title": p.get("title"),
        "disabled": bool(p.get("disabled", False)),
        "sortOrder": view.rule.sort_order,
    }
    if listed:
        out["milestoneId"] = None
    return out


def feature_strategy(view: RuleView) -> dict[str, Any]:
    """A strategy inside a feature's environment (``GET …/features/{f}``)."""
    p = view.rule.payload
    return {
        "name": p.get("name"),
        "constraints": p.get("constraints", []),
        "variants": p.get("variants", []),
        "parameters": p.get("parameters", {}),
        "segments": view.segment_seqs,
        "sortOrder": view.rule.sort_order,
        "id": view.rule.id,
        "title": p.get("title"),
        "disabled": bool(p.get("disabled", False)),
    }


def feature_environment(name: str, env: FlagEnvironment) -> dict[str, Any]:
    """``GET …/features/{f}/environments/{env}``: here 8.2.0's strategies do carry
    ``featureName`` and no ``segments``."""
    strategies = []
    for view in env.rules:
        p = view.rule.payload
        strategies.append(
            {
                "id": view.rule.id,
                "featureName": name,
                "title": p.get("title"),
                "parameters": p.get("parameters", {}),
                "constraints": p.get("constraints", []),
                "variants": p.get("variants", []),
                "sortOrder": view.rule.sort_order,
                "disabled": bool(p.get("disabled", False)),
                "name": p.get("name"),
            }
        )
    return {"name": name, "environment": env.name, "enabled": env.enabled, "strategies": strategies}


def feature_list(details: list[FlagDetail]) -> dict[str, Any]:
    """``GET /projects/{p}/features``: each feature with one overview per environment.
    ``favorite`` is per user (an API token has none); ``variantCount`` counts environment
    variants, which segmux does not keep; ``lastSeenAt`` needs SDK metrics segmux does not
    record (null, as Unleash shows a flag no SDK has reported)."""
    features = []
    for d in details:
        flag = d.flag
        ext = flag.extensions.get(EXT) or {}
        features.append(
            {
                "type": flag.type,
                "description": flag.description,
                "favorite": False,
                "name": flag.name,
                "createdAt": iso_ms(flag.created_at),
                "stale": bool(ext.get("stale", False)),
                "impressionData": bool(ext.get("impressionData", False)),
                "environments": [
                    {
                        "name": e.name,
                        "enabled": e.enabled,
                        "type": e.type,
                        "sortOrder": e.sort_order,
                        "variantCount": 0,
                        "lastSeenAt": None,
                        "hasStrategies": bool(e.rules),
                        "hasEnabledStrategies": any(
                            not r.rule.payload.get("disabled") for r in e.rules
                        ),
                    }
                    for e in d.environments
                ],
            }
        )
    return {"version": 2, "features": features}


def feature_detail(detail: FlagDetail, *, environment_variants: bool) -> dict[str, Any]:
    """``GET /projects/{p}/features/{f}``. Left out, because segmux cannot know them: the
    creator as an Unleash user (``createdBy``, ``collaborators``), the lifecycle stage and the
    last hour's metrics (``yes``/``no``). Dependencies, children and links do not exist in
    segmux: always empty."""
    flag = detail.flag
    ext = flag.extensions.get(EXT) or {}
    environments = []
    for e in detail.environments:
        env: dict[str, Any] = {"name": e.name, "lastSeenAt": None}
        if environment_variants:
            env["variants"] = []
        env.update(
            enabled=e.enabled,
            type=e.type,
            sortOrder=e.sort_order,
            strategies=[feature_strategy(r) for r in e.rules],
        )
        environments.append(env)
    return {
        "environments": environments,
        "name": flag.name,
        "impressionData": bool(ext.get("impressionData", False)),
        "description": flag.description,
        "project": flag.project,
        "stale": bool(ext.get("stale", False)),
        "createdAt": iso_ms(flag.created_at),
        "type": flag.type,
        "archived": flag.archived,
        "dependencies": [],
        "children": [],
        "links": [],
    }


# --- the client API ----------------------------------------------------------------------

# A constraint no context satisfies (IN with no values is false in every SDK): stands in, in
# inlined mode, for a segment constraints can no longer express, so its strategy is off rather
# than wider.
_NEVER = {"values": [], "operator": "IN", "contextName": "segmux.unexpressibleSegment"}


def client_feature(item: ClientFlag, snapshot: ClientSnapshot, *, inline: bool) -> dict[str, Any]:
    flag = item.flag
    ext = flag.extensions.get(EXT) or {}
    strategies = []
    for view in item.rules:
        p = view.rule.payload
        constraints = list(p.get("constraints", []))
        out: dict[str, Any] = {
            "name": p.get("name"),
            "constraints": constraints,
            "parameters": p.get("parameters", {}),
            "variants": p.get("variants", []),
        }
        missing = len(view.segment_seqs) < len(view.rule.segments)
        if inline:
            for seq in view.segment_seqs:
                seg = snapshot.segments.get(seq)
                if seg is None:
                    missing = True
                else:
                    constraints.extend(seg.constraints)
            if missing:
                constraints.append(_NEVER)
        else:
            seqs = list(view.segment_seqs)
            if missing:
                seqs.append(0)  # no segment 0 exists: SDKs evaluate the strategy as false
            out["segments"] = seqs
        strategies.append(out)
    return {
        "name": flag.name,
        "type": flag.type,
        "enabled": flag.enabled.get(snapshot.environment, False),
        "project": flag.project,
        "stale": bool(ext.get("stale", False)),
        "strategies": strategies,
        "variants": [],
        "description": flag.description,
        "impressionData": bool(ext.get("impressionData", False)),
    }


def client_segments(snapshot: ClientSnapshot) -> list[dict[str, Any]]:
    shown = [s for s in snapshot.segments.values() if s is not None]
    shown.sort(key=lambda s: s.segment.name.encode())
    return [
        {"id": s.segment.seq, "name": s.segment.name, "constraints": s.constraints} for s in shown
    ]


def short_hash(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x00")
    return digest.hexdigest()


# --- admin feature queries and batches -------------------------------------------------------


def feature_list_query(request_params: Any) -> tuple[str | None, list[str]]:
    """``namePrefix`` and ``tag`` of the feature list, checked as Unleash's query schema does
    (a tag is ``type:value``)."""
    tags = [t for t in request_params.getlist("tag")]
    for i, tag in enumerate(tags):
        if not _TAG.search(tag):
            raise SchemaInvalid(
                f"tag[{i}]", f'with value "{tag}" fails to match the tag pattern', tag
            )
    prefix = request_params.get("namePrefix")
    return (prefix if prefix and prefix.strip() else None), tags


def batch_features(body: Any) -> list[str]:
    data = schema.validate(body, schema.BATCH_FEATURES, "/body")
    return list(data["features"])
