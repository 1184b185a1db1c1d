"""``/v1/flags…`` and ``/v1/clients…``: Confidence's flags admin API (``FlagAdminService``) and
its clients and credentials (``IamService``) as Google's HTTP transcoding serves them. Each
handler authenticates (an admin token of the tenant or an access token from
``/v1/oauth/token``), decodes, calls one use case of ``core.confidence_flags`` and encodes.

Custom methods are ``POST /v1/flags/{flag}:verb`` (``{rest}`` carries ``flag:verb``). Lists
page with opaque tokens bound to the query (``dialects.confidence.paging``); only flags filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.confidence_flags import ConfidenceFlagService
from core.confidence_rules import check_id
from core.errors import Invalid, NotFound
from core.model import Principal
from dialects.confidence import flag_translate as tr
from dialects.confidence.filters import flag_field, parse_filter
from dialects.confidence.flag_wire import (
    ArchiveFlagIn,
    ClientIn,
    CredentialIn,
    FlagClientIn,
    FlagIn,
    ListClientsOut,
    ListCredentialsOut,
    ListFlagsOut,
    ListRulesOut,
    ListVariantsOut,
    RuleIn,
    VariantIn,
)
from dialects.confidence.paging import decode_token, encode_token, page_size
from dialects.confidence.requests import json_response, object_body, only, param, split
from dialects.handlers import SurfaceApi, authenticate
from dialects.http import convert, route

T = TypeVar("T")
FLAG_VERBS = ("archive", "addFlagClient", "removeFlagClient")


def _page(
    request: Request, kind: str, items: Sequence[T], *query: str | None
) -> tuple[list[T], str]:
    """One page of ``items`` for ``pageSize`` and ``pageToken``, and the next page's token."""
    size = page_size(param(request, "pageSize"))
    offset = decode_token(param(request, "pageToken"), kind, *query)
    page = list(items[offset : offset + size])
    more = offset + size < len(items)
    return page, (encode_token(offset + size, kind, *query) if more else "")


def _no_verb(rest: str, method: str) -> str:
    resource_id, verb = split(rest)
    if verb is not None:
        raise NotFound("method", verb, f"Method not found: {method} :{verb}")
    return resource_id


class FlagAdminApi(SurfaceApi):
    """Flags, variants, rules, clients and credentials over ``ConfidenceFlagService``."""

    def routes(self) -> list[Route]:
        return [
            route("/flags", GET=self.list_flags, POST=self.create_flag),
            route(
                "/flags/{rest}",
                GET=self.get_flag,
                PATCH=self.update_flag,
                POST=self.flag_method,
            ),
            route("/flags/{flag}/variants", GET=self.list_variants, POST=self.create_variant),
            route(
                "/flags/{flag}/variants/{variant}",
                GET=self.get_variant,
                PATCH=self.update_variant,
                DELETE=self.delete_variant,
            ),
            route("/flags/{flag}/rules", GET=self.list_rules, POST=self.create_rule),
            route(
                "/flags/{flag}/rules/{rule}",
                GET=self.get_rule,
                PATCH=self.update_rule,
                DELETE=self.delete_rule,
            ),
            route("/clients", GET=self.list_clients, POST=self.create_client),
            route("/clients/{client}", GET=self.get_client, DELETE=self.delete_client),
            route(
                "/clients/{client}/credentials",
                GET=self.list_credentials,
                POST=self.create_credential,
            ),
            route(
                "/clients/{client}/credentials/{credential}",
                GET=self.get_credential,
                DELETE=self.delete_credential,
            ),
        ]

    @property
    def flags(self) -> ConfidenceFlagService:
        return ConfidenceFlagService(self.services.store)

    async def who(self, request: Request, *, read: bool = False) -> Principal:
        principal = await authenticate(self.services.tokens, request)
        if read:
            await self.services.answers.mark(request, principal)
        return principal

    async def body(self, request: Request, into: type[T], *, optional: bool = False) -> T:
        raw = await object_body(
            request, self.services.settings.body_limit, optional=optional, opaque=tr.OPAQUE
        )
        return convert(raw, into)

    # flags ---------------------------------------------------------------------------------
    async def create_flag(self, request: Request) -> Response:
        who = await self.who(request)
        only(request, "flagId")
        flag_id = param(request, "flagId")
        sent = await self.body(request, FlagIn)
        name = sent.name if isinstance(sent.name, str) else None
        if flag_id is None and name:
            flag_id = name.removeprefix("flags/") if name.startswith("flags/") else None
            if flag_id is None:
                raise Invalid("flag.name", "must be flags/<id>")
        if not flag_id:
            raise Invalid("flag_id", "is required")
        if name and name != f"flags/{flag_id}":
            raise Invalid("flag.name", f"{name} does not match flagId {flag_id}")
        flag = await self.flags.create_flag(who, check_id("flag_id", flag_id), tr.flag_in(sent))
        return json_response(tr.flag_out(flag))

    async def list_flags(self, request: Request) -> Response:
        who = await self.who(request, read=True)
        only(request, "pageSize", "pageToken", "filter")
        text = param(request, "filter")
        keep = parse_filter(text, flag_field)
        flags = [f for f in await self.flags.list_flags(who) if keep(f)]
        page, token = _page(request, "flags", flags, text)
        return json_response(ListFlagsOut([tr.flag_out(f) for f in page], token))

    async def get_flag(self, request: Request) -> Response:
        who = await self.who(request, read=True)
        flag_id = _no_verb(request.path_params["rest"], "GET")
        only(request)
        return json_response(tr.flag_out(await self.flags.get_flag(who, flag_id)))

    async def update_flag(self, request: Request) -> Response:
        who = await self.who(request)
        flag_id = check_id("flag.name", _no_verb(request.path_params["rest"], "PATCH"))
        only(request, "updateMask")
        paths = tr.FLAG_MASK.parse(param(request, "updateMask"), "Flag")
        sent = await self.body(request, FlagIn)
        current = await self.flags.get_flag(who, flag_id)
        patch = tr.flag_patch(current, sent, paths)
        return json_response(tr.flag_out(await self.flags.update_flag(who, flag_id, patch)))

    async def flag_method(self, request: Request) -> Response:
        who = await self.who(request)
        flag_id, verb = split(request.path_params["rest"])
        if verb not in FLAG_VERBS:
            raise NotFound("method", str(verb), f"Method not found: POST :{verb}")
        check_id("name", flag_id)
        only(request)
        name = f"flags/{flag_id}"
        if verb == "archive":
            args = await self.body(request, ArchiveFlagIn, optional=True)
            _same(args.name, name, "name")
            flag = await self.flags.archive_flag(who, flag_id)
        else:
            sent = await self.body(request, FlagClientIn)
            _same(sent.flag, name, "flag")
            if not sent.client:
                raise Invalid("client", "is required")
            if verb == "addFlagClient":
                flag = await self.flags.add_flag_client(who, flag_id, sent.client)
            else:
                flag = await self.flags.remove_flag_client(who, flag_id, sent.client)
        return json_response(tr.flag_out(flag))

    # variants ------------------------------------------------------------------------------
    async def create_variant(self, request: Request) -> Response:
        who = await self.who(request)
        only(request)
        sent = await self.body(request, VariantIn)
        flag_id = request.path_params["flag"]
        variant = await self.flags.create_variant(who, flag_id, tr.variant_in(sent))
        return json_response(tr.variant_out(variant))

    async def list_variants(self, request: Request) -> Response:
        who = await self.who(request, read=True)
        only(request, "pageSize", "pageToken")
        flag = await self.flags.get_flag(who, request.path_params["flag"])
        page, token = _page(request, "variants", flag.variants)
        return json_response(ListVariantsOut([tr.variant_out(v) for v in page], token))

    async def get_variant(self, request: Request) -> Response:
        who = await self.who(request, read=True)
        only(request)
        p = request.path_params
        return json_response(
            tr.variant_out(await self.flags.get_variant(who, p["flag"], p["variant"]))
        )

    async def update_variant(self, request: Request) -> Response:
        who = await self.who(request)
        only(request, "updateMask")
        p = request.path_params
        paths = tr.VARIANT_MASK.parse(param(request, "updateMask"), "Variant")
        sent = await self.body(request, VariantIn)
        current = await self.flags.get_variant(who, p["flag"], p["variant"])
        patch = tr.variant_patch(current, sent, paths)
        updated = await self.flags.update_variant(who, p["flag"], p["variant"], patch)
        return json_response(tr.variant_out(updated))

    async def delete_variant(self, request: Request) -> Response:
        who = await self.who(request)
        only(request)
        p = request.path_params
        await self.flags.delete_variant(who, p["flag"], p["variant"])
        return json_response({})

    # rules ---------------------------------------------------------------------------------
    async def create_rule(self, request: Request) -> Response:
        who = await self.who(request)
        only(request)
        sent = await self.body(request, RuleIn)
        rule = await self.flags.create_rule(who, request.path_params["flag"], tr.rule_in(sent))
        return json_response(tr.rule_out(rule))

    async def list_rules(self, request: Request) -> Response:
        who = await self.who(request, read=True)
        only(request, "pageSize", "pageToken")
        flag = await self.flags.get_flag(who, request.path_params["flag"])
        page, token = _page(request, "rules", flag.rules)
        return json_response(ListRulesOut([tr.rule_out(r) for r in page], token))

    async def get_rule(self, request: Request) -> Response:
        who = await self.who(request, read=True)
        only(request)
        p = request.path_params
        return json_response(tr.rule_out(await self.flags.get_rule(who, p["flag"], p["rule"])))

    async def update_rule(self, request: Request) -> Response:
        who = await self.who(request)
        only(request, "updateMask")
        p = request.path_params
        paths = tr.RULE_MASK.parse(param(request, "updateMask"), "Rule")
        sent = await self.body(request, RuleIn)
        current = await self.flags.get_rule(who, p["flag"], p["rule"])
        patch = tr.rule_patch(current, sent, paths)
        return json_response(
            tr.rule_out(await self.flags.update_rule(who, p["flag"], p["rule"], patch))
        )

    async def delete_rule(self, request: Request) -> Response:
        who = await self.who(request)
        only(request)
        p = request.path_params
        await self.flags.delete_rule(who, p["flag"], p["rule"])
        return json_response({})

    # clients -------------------------------------------------------------------------------
    async def create_client(self, request: Request) -> Response:
        who = await self.who(request)
        only(request)
        sent = await self.body(request, ClientIn)
        client = await self.flags.create_client(who, sent.displayName or "", sent.labels or {})
        return json_response(tr.client_out(client))

    async def list_clients(self, request: Request) -> Response:
        who = await self.who(request, read=True)
        only(request, "pageSize", "pageToken")
        page, token = _page(request, "clients", await self.flags.list_clients(who))
        return json_response(ListClientsOut([tr.client_out(c) for c in page], token))

    async def get_client(self, request: Request) -> Response:
        who = await self.who(request, read=True)
        only(request)
        client = await self.flags.get_client(who, request.path_params["client"])
        return json_response(tr.client_out(client))

    async def delete_client(self, request: Request) -> Response:
        who = await self.who(request)
        only(request)
        await self.flags.delete_client(who, request.path_params["client"])
        return json_response({})

    async def create_credential(self, request: Request) -> Response:
        who = await self.who(request)
        only(request)
        sent = await self.body(request, CredentialIn)
        credential, secret = await self.flags.create_credential(
            who,
            request.path_params["client"],
            sent.displayName or "",
            tuple(sent.environments or ()),
            sent.labels or {},
        )
        return json_response(tr.credential_out(credential, secret))

    async def list_credentials(self, request: Request) -> Response:
        who = await self.who(request, read=True)
        only(request, "pageSize", "pageToken")
        client = await self.flags.get_client(who, request.path_params["client"])
        page, token = _page(request, "credentials", client.credentials)
        return json_response(ListCredentialsOut([tr.credential_out(k) for k in page], token))

    async def get_credential(self, request: Request) -> Response:
        who = await self.who(request, read=True)
        only(request)
        p = request.path_params
        credential = await self.flags.get_credential(who, p["client"], p["credential"])
        return json_response(tr.credential_out(credential))

    async def delete_credential(self, request: Request) -> Response:
        who = await self.who(request)
        only(request)
        p = request.path_params
        await self.flags.delete_credential(who, p["client"], p["credential"])
        return json_response({})


def _same(sent: str | None, name: str, field: str) -> None:
    """A custom method's body may repeat the resource name; it must be this one."""
    if sent and sent != name:
        raise Invalid(field, f"{sent} is not {name}")
