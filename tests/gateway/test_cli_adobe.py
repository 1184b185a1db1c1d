"""The CLI's Adobe additions, as a user runs them (a real process per call): a token with an
IMS client id and secret, and a tenant's IMS org id."""

from __future__ import annotations

import pytest

from core.store import Store
from core.tokens import hash_token
from tests.gateway.test_cli import run

pytestmark = pytest.mark.usefixtures("store")


async def test_tokens_create_with_client_id_prints_token_then_secret(
    store_url: str, store: Store
) -> None:
    done = run(
        [
            "tokens",
            "create",
            "--tenant",
            "acme",
            "--scope",
            "admin",
            "--name",
            "aepp",
            "--client-id",
            "0a1b2c3d",
        ],
        store_url,
    )
    assert done.returncode == 0, done.stderr
    token, secret = done.stdout.splitlines()
    assert token.startswith("smx_")
    assert secret.startswith("p8e-")
    assert len(secret) > 40
    principal = await store.principal_for(hash_token(token))
    assert principal is not None
    assert (principal.tenant, principal.client_id) == ("acme", "0a1b2c3d")
    assert await store.check_client_secret("0a1b2c3d", hash_token(secret))
    listed = run(["tokens", "list", "--tenant", "acme"], store_url).stdout
    assert "\tacme\tadmin\taepp\t0a1b2c3d" in listed
    assert secret not in listed
    assert token not in listed


def test_client_id_must_be_unique_and_well_formed(store_url: str) -> None:
    args = ["tokens", "create", "--tenant", "acme", "--scope", "admin", "--name", "a"]
    assert run([*args, "--client-id", "cid"], store_url).returncode == 0
    again = run([*args, "--client-id", "cid"], store_url)
    assert again.returncode == 2
    assert "client" in again.stderr
    assert again.stdout == ""
    bad = run([*args, "--client-id", "no spaces"], store_url)
    assert bad.returncode == 2
    assert "client_id" in bad.stderr


async def test_tenants_set_ims_org(store_url: str, store: Store) -> None:
    run(["tokens", "create", "--tenant", "acme", "--scope", "admin", "--name", "a"], store_url)
    done = run(
        ["tenants", "set", "--tenant", "acme", "--ims-org", "53A7E4A25F3C@AdobeOrg"], store_url
    )
    assert done.returncode == 0, done.stderr
    tenant = await store.get_tenant("acme")
    assert tenant.settings["ims_org_id"] == "53A7E4A25F3C@AdobeOrg"
    bad = run(["tenants", "set", "--tenant", "acme", "--ims-org", "not-an-org"], store_url)
    assert (bad.returncode, "ims_org" in bad.stderr) == (2, True)
    unknown = run(["tenants", "set", "--tenant", "nobody", "--ims-org", "X@AdobeOrg"], store_url)
    assert unknown.returncode == 2
