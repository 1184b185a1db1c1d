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

from core.model import ProfilePage
from dialects.hal import errors, translate
from dialects.hal.wire import ENCODER, MEDIA_TYPE, Health, Root
from dialects.handlers import SurfaceApi, authenticate, json_body
from dialects.http import CatchAll, Log, base_url, route
from dialects.ports import Services

_log = Log("segmux.error")

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


def _individuals(request: Request, paging: translate.Paging, page: ProfilePage) -> Response:
    """A page of individuals (the individuals collection, or a segment's members)."""
    links = _hrefs(request)
    items = [translate.individual_out(p, links) for p in page.items]
    return _hal(paging.collection("individuals", items, page.total, _collection_url(request)))


def _empty() -> Response:
    """Pulpo's 200 with no body (DELETE, membership changes)."""
    return Response(status_code=200)


def _hrefs(request: Request) -> translate.Hrefs:
    return translate.Hrefs(base_url(request), request.path_params["projectId"])


def _collection_url(request: Request) -> str:
    return base_url(request) + request.url.path


class HalApi(SurfaceApi):
    """The HAL handlers, one method per operation, over the use cases they call.

    ``services`` is read at each request, not at construction: the gateway builds its apps
    before the store opens, and fills the use cases in when it does."""

    __slots__ = ("services", "view")

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.view = translate.new_view()
        """How HAL shows a segment (OData filters): built once, shared by every request."""

    async def _body(self, request: Request) -> Any:
        return await json_body(request, self.services.settings.body_limit)

    # root and health -------------------------------------------------------------------

    async def root(self, request: Request) -> Response:
        await authenticate(self.services.tokens, request)
        return _hal(
            Root(
                name="segmux",
                description="segmux: the HAL Individual Segments API",
                links=translate.root_links(base_url(request)),
            )
        )

    async def health(self, request: Request) -> Response:
        try:
            await self.services.store.ping()
        except Exception:  # any failure of the store is DOWN, never a 500
            # The probe's answer says only DOWN: why is for the operator, in the log.
            _log.exception("health: the store did not answer")
            return _hal(Health(description="segmux", status="DOWN"), 503)
        return _hal(Health(description="segmux", status="UP"))

    # individual segments ---------------------------------------------------------------

    async def list_segments(self, request: Request) -> Response:
        services = self.services  # a benchmarked path: each attribute read once, as locals
        who = await authenticate(services.tokens, request)
        await services.answers.mark(request, who)
        query = request.query_params
        paging = translate.Paging(query)
        where, sort = translate.filter_param(query), translate.segment_sort(query)
        view = self.view
        page = await services.segment_views.list(
            who,
            view,
            request.path_params["projectId"],
            where=where,
            sort=sort,
            offset=paging.offset,
            limit=paging.size,
        )
        links = _hrefs(request)
        items = [translate.segment_out(s, view, links) for s in page.items]
        return _hal(
            paging.collection("individual-segments", items, page.total, _collection_url(request))
        )

    async def create_segment(self, request: Request) -> Response:
        who = await authenticate(self.services.tokens, request)
        new = translate.new_segment(await self._body(request), request.path_params["projectId"])
        segment = await self.services.segment_views.create(who, new)
        return _hal(translate.segment_out(segment, self.view, _hrefs(request)))

    async def get_segment(self, request: Request) -> Response:
        services = self.services
        who = await authenticate(services.tokens, request)
        await services.answers.mark(request, who)
        view = self.view
        segment = await services.segment_views.get(
            who, view, request.path_params["projectId"], request.path_params["id"]
        )
        return _hal(translate.segment_out(segment, view, _hrefs(request)))

    async def put_segment(self, request: Request) -> Response:
        who = await authenticate(self.services.tokens, request)
        slug = request.path_params["id"]
        build = translate.segment_patch(await self._body(request), slug)
        project = request.path_params["projectId"]
        # found through HAL's view first: a segment HAL cannot show answers 404, as on GET
        current = await self.services.segment_views.get(who, self.view, project, slug)
        segment = await self.services.segments.update_with(who, current.id, build, sandbox=project)
        return _hal(translate.segment_out(segment, self.view, _hrefs(request)))

    async def delete_segment(self, request: Request) -> Response:
        who = await authenticate(self.services.tokens, request)
        await self.services.segment_views.delete(
            who, self.view, request.path_params["projectId"], request.path_params["id"]
        )
        return _empty()

    async def segment_members(self, request: Request) -> Response:
        who = await authenticate(self.services.tokens, request)
        query = request.query_params
        paging = translate.Paging(query)
        where, sort = translate.filter_param(query), translate.individual_sort(query)
        page = await self.services.profiles.members(
            who,
            self.view,
            request.path_params["projectId"],
            request.path_params["id"],
            where=where,
            offset=paging.offset,
            limit=paging.size,
            sort=sort,
        )
        return _individuals(request, paging, page)

    async def add_membership(self, request: Request) -> Response:
        who = await authenticate(self.services.tokens, request)
        slug = request.path_params["id"]
        individual = translate.membership_body(await self._body(request), slug)
        await self.services.profiles.add_member(
            who, self.view, request.path_params["projectId"], slug, individual
        )
        return _empty()

    async def delete_membership(self, request: Request) -> Response:
        who = await authenticate(self.services.tokens, request)
        await self.services.profiles.remove_member(
            who,
            self.view,
            request.path_params["projectId"],
            request.path_params["id"],
            request.path_params["individualId"],
        )
        return _empty()

    # individuals -----------------------------------------------------------------------

    async def list_individuals(self, request: Request) -> Response:
        who = await authenticate(self.services.tokens, request)
        query = request.query_params
        paging = translate.Paging(query)
        where, sort = translate.filter_param(query), translate.individual_sort(query)
        page = await self.services.profiles.list(
            who,
            request.path_params["projectId"],
            where=where,
            offset=paging.offset,
            limit=paging.size,
            sort=sort,
        )
        return _individuals(request, paging, page)

    async def create_individual(self, request: Request) -> Response:
        who = await authenticate(self.services.tokens, request)
        identifier, attributes = translate.individual_body(await self._body(request))
        profile = await self.services.profiles.create(
            who, request.path_params["projectId"], identifier, attributes
        )
        return _hal(translate.individual_out(profile, _hrefs(request)))

    async def get_individual(self, request: Request) -> Response:
        who = await authenticate(self.services.tokens, request)
        profile = await self.services.profiles.get(
            who, request.path_params["projectId"], request.path_params["id"]
        )
        return _hal(translate.individual_out(profile, _hrefs(request)))

    async def put_individual(self, request: Request) -> Response:
        who = await authenticate(self.services.tokens, request)
        identifier = request.path_params["id"]
        _, attributes = translate.individual_body(await self._body(request), identifier)
        profile = await self.services.profiles.replace(
            who, request.path_params["projectId"], identifier, attributes
        )
        return _hal(translate.individual_out(profile, _hrefs(request)))

    async def delete_individual(self, request: Request) -> Response:
        who = await authenticate(self.services.tokens, request)
        await self.services.profiles.delete(
            who, request.path_params["projectId"], request.path_params["id"]
        )
        return _empty()

    async def individual_segments(self, request: Request) -> Response:
        who = await authenticate(self.services.tokens, request)
        query = request.query_params
        paging, sort = translate.Paging(query), translate.segment_sort(query)
        page = await self.services.profiles.segments_of(
            who,
            self.view,
            request.path_params["projectId"],
            request.path_params["id"],
            offset=paging.offset,
            limit=paging.size,
            sort=sort,
        )
        links = _hrefs(request)
        items = [translate.segment_out(s, self.view, links) for s in page.items]
        return _hal(
            paging.collection("individual-segments", items, page.total, _collection_url(request))
        )

    def app(self) -> Starlette:
        """Every HAL path with its handlers, behind the guard that renders any unexpected
        failure as a HAL 500."""
        segments = "/{projectId}/individual-segments"
        individuals = "/{projectId}/individuals"
        return Starlette(
            routes=[
                route("/", GET=self.root),
                route("/management/health", GET=self.health),
                route(segments, GET=self.list_segments, POST=self.create_segment),
                route(
                    segments + "/{id}",
                    GET=self.get_segment,
                    PUT=self.put_segment,
                    DELETE=self.delete_segment,
                ),
                route(segments + "/{id}/individuals", GET=self.segment_members),
                route(segments + "/{id}/memberships", POST=self.add_membership),
                route(segments + "/{id}/memberships/{individualId}", DELETE=self.delete_membership),
                route(individuals, GET=self.list_individuals, POST=self.create_individual),
                route(
                    individuals + "/{id}",
                    GET=self.get_individual,
                    PUT=self.put_individual,
                    DELETE=self.delete_individual,
                ),
                route(individuals + "/{id}/individual-segments", GET=self.individual_segments),
            ],
            middleware=[Middleware(CatchAll, render=errors.server_error)],
            exception_handlers=errors.HANDLERS,
        )


def build(services: Services) -> Starlette:
    """The HAL app over ``services`` (what the registry's ``Surface.build`` calls)."""
    return HalApi(services).app()
