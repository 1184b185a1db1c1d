"""The HAL dialect (Liferay Pulpo's Individual Segments and Individuals): decode, one service
call, encode. Mounted last in the gateway, at the root, owning only its own paths (see
``HalRoutes``), so it never shadows another dialect's prefix."""

from __future__ import annotations

import re
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import ASGIApp, Receive, Scope, Send

from core.model import Principal
from dialects.hal import errors
from dialects.hal import translate as tr
from dialects.hal.wire import ENCODER, MEDIA_TYPE, Health, Root
from dialects.http import (
    CatchAll,
    base_url,
    bearer_token,
    decode_json,
    read_body,
    require_json_content_type,
    route,
)
from dialects.ports import Services

_HAL_PATH = re.compile(
    r"^/(?:|management/health|(?:.*/)?(?:individual-segments|individuals)(?:/.*)?)$", re.S
)
"""The paths HAL answers: the root, the health check, and anything under a project's
``individual-segments`` or ``individuals`` (so an unknown one of those is a HAL 404)."""


def owns(path: str) -> bool:
    return _HAL_PATH.match(path) is not None


class HalRoutes(BaseRoute):
    """Matches only HAL's paths, never one under another dialect's prefix (``reserved``, even
    when that dialect's Mount could not match it), and hands them to the HAL app unchanged."""

    def __init__(self, app: ASGIApp, reserved: tuple[str, ...] = ()) -> None:
        self.app = app
        self.reserved = tuple(prefix.rstrip("/") + "/" for prefix in reserved)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope["path"]
        if scope["type"] == "http" and owns(path) and not path.startswith(self.reserved):
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def _hal(value: Any, status: int = 200) -> Response:
    return Response(ENCODER.encode(value), status_code=status, media_type=MEDIA_TYPE)


def _empty() -> Response:
    """Pulpo's 200 with no body (DELETE, membership changes)."""
    return Response(status_code=200)


def build(services: Services) -> Starlette:
    view = tr.new_view()
    def hrefs(request: Request) -> tr.Hrefs:
        return tr.Hrefs(base_url(request), request.path_params["projectId"])

    async def principal(request: Request) -> Principal:
        return await services.tokens.authenticate(bearer_token(request))

    async def body(request: Request) -> Any:
        require_json_content_type(request)
        return decode_json(await read_body(request, services.settings.body_limit))

    def collection_url(request: Request) -> str:
        return base_url(request) + request.url.path

    # root and health -------------------------------------------------------------------
    async def root(request: Request) -> Response:
        await principal(request)
        return _hal(Root(name="segmux", description="segmux: the HAL Individual Segments API",
                         links=tr.root_links(base_url(request))))

    async def health(request: Request) -> Response:
        try:
            await services.store.ping()
        except Exception:  # any failure of the store is DOWN, never a 500
            return _hal(Health(description="segmux", status="DOWN"), 503)
        return _hal(Health(description="segmux", status="UP"))

    # individual segments ---------------------------------------------------------------
    async def list_segments(request: Request) -> Response:
        who = await principal(request)
        await services.answers.mark(request, who)
        query = request.query_params
        paging, where, sort = tr.Paging(query), tr.filter_param(query), tr.segment_sort(query)
        page = await services.segment_views.list(
            who, view, request.path_params["projectId"], where=where, sort=sort,
            offset=paging.offset, limit=paging.size,
        )
        links = hrefs(request)
        items = [tr.segment_out(s, view, links) for s in page.items]
        return _hal(paging.collection("individual-segments", items, page.total,
                                      collection_url(request)))

    async def create_segment(request: Request) -> Response:
        who = await principal(request)
        new = tr.new_segment(await body(request), request.path_params["projectId"])
        segment = await services.segment_views.create(who, new)
        return _hal(tr.segment_out(segment, view, hrefs(request)))

    async def get_segment(request: Request) -> Response:
        who = await principal(request)
        await services.answers.mark(request, who)
        segment = await services.segment_views.get(
            who, view, request.path_params["projectId"], request.path_params["id"]
        )
        return _hal(tr.segment_out(segment, view, hrefs(request)))

    async def put_segment(request: Request) -> Response:
        who = await principal(request)
        slug = request.path_params["id"]
        patch = tr.segment_patch(await body(request), slug)
        segment = await services.segment_views.update(
            who, view, request.path_params["projectId"], slug, patch
        )
        return _hal(tr.segment_out(segment, view, hrefs(request)))

    async def delete_segment(request: Request) -> Response:
        who = await principal(request)
        await services.segment_views.delete(
            who, view, request.path_params["projectId"], request.path_params["id"]
        )
        return _empty()

    async def segment_members(request: Request) -> Response:
        who = await principal(request)
        query = request.query_params
        paging, where, sort = tr.Paging(query), tr.filter_param(query), tr.individual_sort(query)
        page = await services.profiles.members(
            who, view, request.path_params["projectId"], request.path_params["id"],
            where=where, offset=paging.offset, limit=paging.size, sort=sort,
        )
        links = hrefs(request)
        items = [tr.individual_out(p, links) for p in page.items]
        return _hal(paging.collection("individuals", items, page.total, collection_url(request)))

    async def add_membership(request: Request) -> Response:
        who = await principal(request)
        slug = request.path_params["id"]
        individual = tr.membership_body(await body(request), slug)
        await services.profiles.add_member(
            who, view, request.path_params["projectId"], slug, individual
        )
        return _empty()

    async def delete_membership(request: Request) -> Response:
        who = await principal(request)
        await services.profiles.remove_member(
            who, view, request.path_params["projectId"], request.path_params["id"],
            request.path_params["individualId"],
        )
        return _empty()

    # individuals -----------------------------------------------------------------------
    async def list_individuals(request: Request) -> Response:
        who = await principal(request)
        query = request.query_params
        paging, where, sort = tr.Paging(query), tr.filter_param(query), tr.individual_sort(query)
        page = await services.profiles.list(
            who, request.path_params["projectId"], where=where, offset=paging.offset,
            limit=paging.size, sort=sort,
        )
        links = hrefs(request)
        items = [tr.individual_out(p, links) for p in page.items]
        return _hal(paging.collection("individuals", items, page.total, collection_url(request)))

    async def create_individual(request: Request) -> Response:
        who = await principal(request)
        identifier, attributes = tr.individual_body(await body(request))
        profile = await services.profiles.create(
            who, request.path_params["projectId"], identifier, attributes
        )
        return _hal(tr.individual_out(profile, hrefs(request)))

    async def get_individual(request: Request) -> Response:
        who = await principal(request)
        profile = await services.profiles.get(
            who, request.path_params["projectId"], request.path_params["id"]
        )
        return _hal(tr.individual_out(profile, hrefs(request)))

    async def put_individual(request: Request) -> Response:
        who = await principal(request)
        identifier = request.path_params["id"]
        _, attributes = tr.individual_body(await body(request), identifier)
        profile = await services.profiles.replace(
            who, request.path_params["projectId"], identifier, attributes
        )
        return _hal(tr.individual_out(profile, hrefs(request)))

    async def delete_individual(request: Request) -> Response:
        who = await principal(request)
        await services.profiles.delete(
            who, request.path_params["projectId"], request.path_params["id"]
        )
        return _empty()

    async def individual_segments(request: Request) -> Response:
        who = await principal(request)
        query = request.query_params
        paging, sort = tr.Paging(query), tr.segment_sort(query)
        page = await services.profiles.segments_of(
            who, view, request.path_params["projectId"], request.path_params["id"],
            offset=paging.offset, limit=paging.size, sort=sort,
        )
        links = hrefs(request)
        items = [tr.segment_out(s, view, links) for s in page.items]
        return _hal(paging.collection("individual-segments", items, page.total,
                                      collection_url(request)))

    segments = "/{projectId}/individual-segments"
    individuals = "/{projectId}/individuals"
    return Starlette(
        routes=[
            route("/", GET=root),
            route("/management/health", GET=health),
            route(segments, GET=list_segments, POST=create_segment),
            route(segments + "/{id}", GET=get_segment, PUT=put_segment, DELETE=delete_segment),
            route(segments + "/{id}/individuals", GET=segment_members),
            route(segments + "/{id}/memberships", POST=add_membership),
            route(segments + "/{id}/memberships/{individualId}", DELETE=delete_membership),
            route(individuals, GET=list_individuals, POST=create_individual),
            route(individuals + "/{id}", GET=get_individual, PUT=put_individual,
                  DELETE=delete_individual),
            route(individuals + "/{id}/individual-segments", GET=individual_segments),
        ],
        middleware=[Middleware(CatchAll, render=errors.server_error)],
        exception_handlers=errors.HANDLERS,
    )
