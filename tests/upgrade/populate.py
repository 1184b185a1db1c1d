"""Populate a store through the HTTP APIs of a segmux version, record what every dialect answers,
and leave the store to be dumped (tests/upgrade/dumps/README.md says how the dumps were made).

Written to run against every earlier version: it runs the OLD tree's own CLI and server
(``--tree``, put first on PYTHONPATH), and a step whose API that version did not have (a 404 or
405 on its first request) is skipped and said so. What it writes (``--out``, JSON):

- ``tokens``: the raw tokens it created (the store keeps only their hashes);
- ``requests``: every read (method, path, which token, headers, body) and the answer the old
  version gave (status and JSON body), in order.

Usage (from the old tree's directory or anywhere):

    python tests/upgrade/populate.py --tree /tmp/old-<sha> \\
        --database-url sqlite:////tmp/v.db --out tests/upgrade/dumps/sqlite/0006.json
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

Answer = tuple[int, Any]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def segmux(tree: str, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI of the tree under ``tree`` (old versions had no console script of their own)."""
    env = {**os.environ, "PYTHONPATH": tree, "SEGMUX_DATABASE_URL": database_url}
    code = "import sys; from gateway.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, cwd=tree
    )


def create_token(
    tree: str, url: str, scope: str, name: str, client_id: str | None = None
) -> list[str]:
    """The token (and with ``client_id``, the client secret after it)."""
    args = ["tokens", "create", "--tenant", "default", "--scope", scope, "--name", name]
    if client_id is not None:
        args += ["--client-id", client_id]
    done = segmux(tree, url, *args)
    if done.returncode != 0:
        raise RuntimeError(f"tokens create {scope}: {done.stderr.strip()}")
    return done.stdout.splitlines()


class Client:
    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.base = base
        self.tokens = tokens
        self.reads: list[dict[str, Any]] = []
        self.queued: list[tuple[str, str, str, Any, bool, dict[str, Any]]] = []

    def call(
        self,
        method: str,
        path: str,
        token: str,
        body: Any = None,
        *,
        scheme: str = "Bearer ",
        headers: dict[str, str] | None = None,
        form: bool = False,
    ) -> Answer:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = scheme + self.tokens[token]
        data = None
        if body is not None:
            if form:
                data = "&".join(f"{k}={v}" for k, v in body.items()).encode()
                sent["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                sent["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data, sent, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return status, parsed

    def write(self, method: str, path: str, token: str, body: Any = None, **kw: Any) -> Any:
        status, parsed = self.call(method, path, token, body, **kw)
        if status >= 400:
            raise Step(f"{method} {path}: {status} {parsed}", missing=status in (404, 405))
        return parsed

    def read(
        self,
        path: str,
        token: str,
        method: str = "GET",
        body: Any = None,
        *,
        optional: bool = False,
        **kw: Any,
    ) -> None:
        """A request whose answer must be the same after the upgrade: made, and recorded, once
        every step has written (so that each list shows what every API made); an ``optional``
        one only if this version has its route."""
        self.queued.append((path, token, method, body, optional, kw))

    def record(self) -> None:
        for path, token, method, body, optional, kw in self.queued:
            status, parsed = self.call(method, path, token, body, **kw)
            if optional and status in (404, 405):
                continue
            self.reads.append(
                {
                    "method": method,
                    "path": path,
                    "token": token,
                    "scheme": kw.get("scheme", "Bearer "),
                    "headers": kw.get("headers") or {},
                    "body": body,
                    "status": status,
                    "answer": parsed,
                }
            )


class Step(Exception):
    def __init__(self, message: str, *, missing: bool) -> None:
        super().__init__(message)
        self.missing = missing


def v23(c: Client) -> None:
    c.write("POST", "/v2.3/data/segments", "admin", {"name": "EMEA"})
    dach = c.write("POST", "/v2.3/data/segments", "admin", {"name": "DACH"})["result"]["id"]
    c.write("PUT", f"/v2.3/data/segments/{dach}", "admin", {"name": "Central Europe"})
    c.read("/v2.3/data/segments?page=1&per_page=100", "admin")


def unleash(c: Client) -> None:
    segment = c.write(
        "POST",
        "/api/admin/segments",
        "admin",
        {
            "name": "beta-users",
            "constraints": [{"contextName": "userId", "operator": "IN", "values": ["u1", "u2"]}],
        },
        scheme="",
    )["id"]
    features = "/api/admin/projects/default/features"
    for name in ("new-checkout", "dark-mode"):
        c.write("POST", features, "admin", {"name": name}, scheme="")
    c.write(
        "POST",
        f"{features}/new-checkout/environments/development/strategies",
        "admin",
        {"name": "default", "segments": [segment]},
        scheme="",
    )
    c.write(
        "POST",
        f"{features}/dark-mode/environments/development/strategies",
        "admin",
        {
            "name": "flexibleRollout",
            "parameters": {"rollout": "50", "stickiness": "default", "groupId": "dark-mode"},
            "constraints": [{"contextName": "country", "operator": "IN", "values": ["SE", "NO"]}],
        },
        scheme="",
    )
    c.write("POST", f"{features}/new-checkout/environments/development/on", "admin", scheme="")
    c.read("/api/admin/segments", "admin", scheme="")
    c.read(f"/api/admin/segments/{segment}", "admin", scheme="")
    for listing in (features, "/api/admin/features"):  # the latter: before projects
        c.read(listing, "admin", scheme="", optional=True)
        for name in ("new-checkout", "dark-mode"):
            c.read(f"{listing}/{name}", "admin", scheme="", optional=True)
    spec = {"Unleash-Client-Spec": "5.2.0"}
    c.read("/api/client/features", "client", scheme="", headers=spec)
    c.read("/api/client/features", "client", scheme="")  # segments inlined


def adobe(c: Client) -> None:
    headers = {
        "x-api-key": "populate",
        "x-gw-ims-org-id": "default@AdobeOrg",
        "x-sandbox-name": "prod",
    }
    defs = "/data/core/ups/segment/definitions"
    made = c.write(
        "POST",
        defs,
        "admin",
        {
            "name": "US workers",
            "description": "by work address",
            "expression": {
                "type": "PQL",
                "format": "pql/text",
                "value": 'workAddress.country = "US" and age > 30',
            },
            "schema": {"name": "_xdm.context.profile"},
            "ttlInDays": 60,
        },
        headers=headers,
    )
    c.read(f"{defs}/{made['id']}", "admin", headers=headers)
    c.read(f"{defs}?limit=100&sort=name:asc", "admin", headers=headers)


def confidence(c: Client) -> None:
    c.write(
        "POST",
        "/v1/segments?segmentId=swedes",
        "admin",
        {
            "displayName": "Swedes",
            "targeting": {
                "criteria": {
                    "se": {
                        "attribute": {
                            "attributeName": "country",
                            "eqRule": {"value": {"stringValue": "SE"}},
                        }
                    }
                },
                "expression": {"ref": "se"},
            },
        },
    )
    # Small proportions: a bitset of a million units is random bits, and the dumps stay small.
    for name, share in (("exp-a", "0.01"), ("exp-b", "0.005")):
        c.write(
            "POST",
            f"/v1/segments?segmentId={name}",
            "admin",
            {
                "allocation": {
                    "proportion": {"value": share},
                    "exclusivityTags": ["ranking"],
                    "exclusiveTo": ["ranking"],
                }
            },
        )
        c.write("POST", f"/v1/segments/{name}:allocate", "admin", {})  # its bitset
    c.read("/v1/segments?pageSize=100", "admin")
    for name in ("swedes", "exp-a", "exp-b"):
        c.read(f"/v1/segments/{name}", "admin")
    c.read("/v1/segments/exp-b:segmentAvailableSpace", "admin", method="POST", body={})


def confidence_flags(c: Client) -> None:
    client = c.write("POST", "/v1/clients", "admin", {"displayName": "web"})["name"]
    secret = c.write("POST", f"/v1/{client}/credentials", "admin", {"displayName": "web"})
    c.tokens["clientSecret"] = secret["clientSecret"]["secret"]
    c.write(
        "POST",
        "/v1/flags?flagId=checkout",
        "admin",
        {"schema": {"schema": {"enabled": {"boolSchema": {}}}}, "clients": [client]},
    )
    for variant, value in (("on", True), ("off", False)):
        c.write(
            "POST",
            "/v1/flags/checkout/variants",
            "admin",
            {"name": f"flags/checkout/variants/{variant}", "value": {"enabled": value}},
        )
    c.write(
        "POST",
        "/v1/flags/checkout/rules",
        "admin",
        {
            "segment": "segments/swedes",
            "enabled": True,
            "assignmentSpec": {
                "bucketCount": 1,
                "assignments": [
                    {
                        "assignmentId": "all",
                        "variant": {"variant": "flags/checkout/variants/on"},
                        "bucketRanges": [{"upper": 1}],
                    }
                ],
            },
        },
    )
    c.read("/v1/clients", "admin")
    c.read(f"/v1/{client}/credentials", "admin")
    c.read("/v1/flags", "admin")
    c.read("/v1/flags/checkout", "admin")
    for who, country in (("user-1", "SE"), ("user-2", "DK")):
        c.read(
            "/v1/flags:resolve",
            "",
            method="POST",
            body={
                "clientSecret": c.tokens["clientSecret"],
                "flags": ["flags/checkout"],
                "apply": False,
                "evaluationContext": {"targeting_key": who, "country": country},
            },
        )


def hal(c: Client) -> None:
    base = "/my-project"
    for who, age, city in (("ana", "30", "Madrid"), ("luis", "41", "Madrid"), ("eva", "30", "X")):
        c.write(
            "POST",
            f"{base}/individuals",
            "admin",
            {
                "identifier": who,
                "demographics": {"age": [{"value": age}], "city": [{"value": city}]},
            },
        )
    thirty = c.write(
        "POST",
        f"{base}/individual-segments",
        "admin",
        {"name": "Thirty", "filter": "(demographics/age/value eq '30')", "segmentType": "DYNAMIC"},
    )["identifier"]
    friends = c.write(
        "POST",
        f"{base}/individual-segments",
        "admin",
        {"name": "Friends", "segmentType": "STATIC"},
    )["identifier"]
    for who in ("luis", "eva"):
        c.write(
            "POST",
            f"{base}/individual-segments/{friends}/memberships",
            "admin",
            {"individualSegmentIdentifier": friends, "individualIdentifier": who},
        )
    c.read("/", "admin")
    c.read(f"{base}/individuals?size=100&sort=identifier,asc", "admin")
    c.read(f"{base}/individuals/luis", "admin")
    c.read(f"{base}/individuals/luis/individual-segments", "admin")
    c.read(f"{base}/individual-segments?size=100&sort=name,asc", "admin")
    for segment in (thirty, friends):
        c.read(f"{base}/individual-segments/{segment}", "admin")
        c.read(f"{base}/individual-segments/{segment}/individuals?sort=identifier,asc", "admin")
    c.read("/prod/individual-segments?size=100&sort=name,asc", "admin")


def own(c: Client) -> None:
    made = c.write(
        "POST",
        "/segmux/v1/segments",
        "admin",
        {
            "name": "US or older",
            "condition": {
                "language": "pql",
                "expression": 'workAddress.country = "US" or age > 30',
            },
        },
    )
    c.read("/segmux/v1/segments", "admin")
    c.read(f"/segmux/v1/segments/{made['id']}", "admin")
    c.read(
        "/segmux/v1/evaluate",
        "admin",
        method="POST",
        body={"context": {"workAddress": {"country": "US"}, "country": "SE", "userId": "u1"}},
    )


STEPS = (v23, unleash, adobe, confidence, confidence_flags, hal, own)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", required=True, help="the old segmux checkout")
    parser.add_argument("--database-url", required=True, help="a fresh, empty store")
    parser.add_argument("--out", required=True, help="where the tokens and answers go")
    args = parser.parse_args()
    tree = os.path.abspath(args.tree)
    url = args.database_url
    done = segmux(tree, url, "db", "upgrade")
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    tokens = {
        "admin": create_token(tree, url, "admin", "populate-admin")[0],
        "client": create_token(tree, url, "client:development", "populate-client")[0],
    }
    try:
        tokens["frontend"] = create_token(tree, url, "frontend:development", "populate-web")[0]
    except RuntimeError as exc:
        print(f"skipped frontend token: {exc}", file=sys.stderr)
    try:
        made = create_token(tree, url, "admin", "populate-ims", "populate-ims")
        tokens["imsClient"], tokens["imsSecret"] = made
    except RuntimeError as exc:
        print(f"skipped client id token: {exc}", file=sys.stderr)

    port = free_port()
    env = {**os.environ, "PYTHONPATH": tree, "SEGMUX_DATABASE_URL": url}
    code = "import sys; from gateway.cli import main; sys.exit(main(sys.argv[1:]))"
    server = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    client = Client(f"http://127.0.0.1:{port}", tokens)
    ran: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(client.base + "/healthz", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the old server did not start: {server.stderr}") from None
                time.sleep(0.2)
        for step in STEPS:
            try:
                step(client)
                ran.append(step.__name__)
            except Step as exc:
                if not exc.missing:
                    raise
                print(f"skipped {step.__name__}: {exc}", file=sys.stderr)
        if "imsClient" in tokens:
            client.read(
                "/data/core/ups/segment/definitions?limit=100&sort=name:asc",
                "imsClient",
                headers={
                    "x-api-key": "populate-ims",
                    "x-gw-ims-org-id": "default@AdobeOrg",
                    "x-sandbox-name": "prod",
                },
            )
        if "frontend" in tokens:
            client.read("/api/frontend?appName=web&userId=u1", "frontend", scheme="")
        client.record()
    finally:
        server.terminate()
        server.wait(timeout=30)
    record = {"steps": ran, "tokens": tokens, "requests": client.reads}
    with open(args.out, "w") as out:
        json.dump(record, out, sort_keys=True, separators=(",", ":"))
        out.write("\n")
    print(f"{args.out}: steps {', '.join(ran)}; {len(client.reads)} reads", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
