"""Driving load with ``wrk`` (the Debian package): one Lua script per request shape, the summary
printed by the script's ``done`` hook as one JSON line, so nothing is scraped from wrk's text.

A scenario's request is a method, a path, headers and an optional body. A body, a path or a
header's value may hold the placeholder ``@N@``: each request replaces it with ``<run
prefix>-<thread>-<counter>``, so creates never collide on a unique name and per-user reads
(``?userId=@N@``) never repeat one (wrk gives each thread its own Lua state, hence the thread
number set in ``setup``). A header's value may also hold ``@I@``, the number (five digits) of
one of :data:`INSTANCES` SDK instances, each request taking the next one round (a fleet of
SDKs, each sending its own instance and connection id). A path may hold ``@K@``: each request
takes the next of the request's ``keys`` (the ids of segments made before the run), so updates
cycle over existing segments, the threads starting apart.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

PLACEHOLDER = "@N@"
INSTANCE = "@I@"
KEY = "@K@"
INSTANCES = 10_000
MARK = "BENCHJSON "


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    keys: tuple[str, ...] = ()  # what ``@K@`` in the path cycles over


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors plus non-2xx/3xx responses
    non_2xx: int


def _lua_string(s: str) -> str:
    # A long bracket with a level no input contains: no escaping needed.
    level = 0
    while f"]{'=' * level}]" in s:
        level += 1
    eq = "=" * level
    return f"[{eq}[{s}]{eq}]"


def _varies(value: str) -> bool:
    return PLACEHOLDER in value or INSTANCE in value


def lua_script(req: Request) -> str:
    lines = [f"wrk.method = {_lua_string(req.method)}"]
    for k, v in req.headers.items():
        lines.append(f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}")
    lines.append(f"local path = {_lua_string(req.path)}")
    varying = {k: v for k, v in req.headers.items() if _varies(v)}
    if KEY in req.path and not req.keys:
        raise ValueError(f"{req.path}: {KEY} with no keys to cycle over")
    dynamic = (
        PLACEHOLDER in req.path
        or KEY in req.path
        or (req.body is not None and PLACEHOLDER in req.body)
        or bool(varying)
    )
    if req.body is not None and not dynamic:
        lines.append(f"wrk.body = {_lua_string(req.body)}")
    lines.append("""
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
""")
    if dynamic:
        # A body without the placeholder is sent as it is (gsub finds nothing to replace).
        lines.append(f"local template = {_lua_string(req.body) if req.body is not None else 'nil'}")
        lines.append(f"local prefix = {_lua_string(uuid.uuid4().hex[:8])}")
        lines.append(f"local instances = {INSTANCES}")
        lines.append("local keys = {" + ", ".join(_lua_string(k) for k in req.keys) + "}")
        lines.append("local varying = {")
        for k, v in varying.items():
            lines.append(f"  [ {_lua_string(k)} ] = {_lua_string(v)},")
        lines.append("}")
        # The threads start half the fleet apart, so together they cycle through all of it.
        lines.append("""
local counter = 0
function request()
  counter = counter + 1
  local name = prefix .. "-" .. tostring(tid) .. "-" .. tostring(counter)
  local instance = string.format("%05d", math.floor((counter + tid * instances / 2) % instances))
  local target = path:gsub("@N@", name)
  if #keys > 0 then
    target = target:gsub("@K@", keys[(counter + tid * math.floor(#keys / 2)) % #keys + 1])
  end
  local body = nil
  if template ~= nil then body = template:gsub("@N@", name) end
  local headers = nil
  if next(varying) ~= nil then
    headers = {}
    for k, v in pairs(wrk.headers) do headers[k] = v end
    for k, v in pairs(varying) do
      headers[k] = v:gsub("@N@", name):gsub("@I@", instance)
    end
  end
  return wrk.format(nil, target, headers, body)
end
""")
    else:
        lines.append("""
local req = nil
function request()
  if req == nil then req = wrk.format(nil, path) end
  return req
end
""")
    lines.append(f"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{MARK}{{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50_us":%d,"p99_us":%d}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
""")
    return "\n".join(lines)


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    return path


def run(
    base: str, req: Request, *, connections: int, seconds: float, script_dir: Path, name: str
) -> Result:
    """Run wrk for ``seconds`` with ``connections`` (one thread per connection, at most 2:
    the machine has 2 cores and wrk needs far less than the server)."""
    script_dir.mkdir(parents=True, exist_ok=True)
    script = script_dir / f"{name}.lua"
    script.write_text(lua_script(req))
    threads = min(connections, 2)
    cmd = [
        require_wrk(),
        "--latency",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base + "/",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(
            f"wrk failed ({proc.returncode}): {proc.stdout[-800:]} {proc.stderr[-800:]}"
        )
    d = json.loads(line[len(MARK) :])
    secs = d["duration_us"] / 1e6
    socket_errors = d["connect"] + d["read"] + d["write"] + d["timeout"]
    return Result(
        requests=d["requests"],
        seconds=secs,
        rps=d["requests"] / secs if secs else 0.0,
        p50_ms=d["p50_us"] / 1000,
        p99_ms=d["p99_us"] / 1000,
        errors=socket_errors + d["status"],
        non_2xx=d["status"],
    )
