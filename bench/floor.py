"""The framework floor: a bare Starlette app on uvicorn (same versions, loop and HTTP parser as
``segmux serve``) answering each scenario's path with a constant body of the size segmux
answered it with. Whatever segmux spends above this is segmux's own work.

Run: ``python -m bench.floor --manifest M.json --port P``; the manifest maps a scenario name
to ``{"file": <body file>, "content_type": …, "status": …}`` and the app serves it at
``/f/<name>`` (GET or POST; a POST's body is read, as a create handler reads it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def build(manifest: dict[str, dict[str, object]]) -> Starlette:
    bodies: dict[str, tuple[bytes, str, int]] = {}
    for name, entry in manifest.items():
        bodies[name] = (
            Path(str(entry["file"])).read_bytes(),
            str(entry["content_type"]),
            int(str(entry["status"])),
        )

    async def constant(request: Request) -> Response:
        if request.method == "POST":
            await request.body()
        body, content_type, status = bodies[request.path_params["name"]]
        return Response(body, status_code=status, media_type=content_type)

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(
        routes=[Route("/healthz", healthz), Route("/f/{name}", constant, methods=["GET", "POST"])]
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor")
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = build(json.loads(Path(args.manifest).read_text()))
    uvicorn.run(app, host="127.0.0.1", port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
