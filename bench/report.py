"""Medians, ratios, the project's performance targets and the markdown that goes to stdout and
RESULTS.md.

A measurement is one wrk run, a plain dict (so runs of several ``make bench`` invocations,
saved as JSON, can be pooled): ``target`` (segmux | floor | unleash), ``backend`` (sqlite |
postgres | -), ``workers``, ``scenario``, ``connections``, ``rps``, ``p50_ms``, ``p99_ms``,
``rss_mb`` (peak RSS of the serving process during the run), ``errors``, ``bytes``.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

Key = tuple[str, str, str, int]  # target, backend, scenario, connections


def median_table(measurements: Iterable[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """Medians per (target, backend, scenario, connections); peak RSS is the max."""
    groups: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    for m in measurements:
        groups[(m["target"], m["backend"], m["scenario"], m["connections"])].append(m)
    out: dict[Key, dict[str, Any]] = {}
    for key, ms in groups.items():
        out[key] = {
            "runs": len(ms),
            "rps": statistics.median(m["rps"] for m in ms),
            "p50_ms": statistics.median(m["p50_ms"] for m in ms),
            "p99_ms": statistics.median(m["p99_ms"] for m in ms),
            "rss_mb": max(m["rss_mb"] for m in ms),
            "errors": sum(m["errors"] for m in ms),
            "requests": min(m.get("requests", 1) for m in ms),
            "bytes": ms[0].get("bytes"),
            "fixture": ms[0].get("fixture", ""),
            "workers": ms[0].get("workers", 1),
        }
    return out


def _f(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "-"
    if digits == 0 and 0 < v < 10:
        return f"{v:.1f}"
    return f"{v:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.2f}x"


def _versus(rps: float, reference: dict[str, Any] | None) -> str:
    """segmux's req/s over the reference's; none when the reference answered errors (a 429 or
    a 5xx is answered fast, so its req/s would flatter the reference)."""
    if reference is None:
        return "-"
    if reference["errors"]:
        return f"none ({reference['errors']:,} errors)"
    return _ratio(rps, reference["rps"])


def floor_of(
    med: dict[Key, dict[str, Any]], backend: str, scenario: str, conns: int
) -> dict[str, Any] | None:
    """The floor measured beside this backend's run (runs before the floor was paired with
    each backend measured it once, as backend "-")."""
    return med.get(("floor", backend, scenario, conns)) or med.get(("floor", "-", scenario, conns))


def table(med: dict[Key, dict[str, Any]]) -> str:
    """One row per segmux (backend, scenario, connections), with its floor and Unleash."""
    lines = [
        "| backend | scenario | fix. | bytes | conns | req/s | p50 ms | p99 ms | peak RSS MB "
        "| floor req/s | xfloor | Unleash req/s | xUnleash | Unleash p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = sorted((k for k in med if k[0] == "segmux"), key=lambda k: (k[1], _order(k[2]), k[3]))
    for key in rows:
        _, backend, scenario, conns = key
        m = med[key]
        floor = floor_of(med, backend, scenario, conns)
        un = med.get(("unleash", "-", scenario, conns))
        # wrk reports no latency when no request completed within the run
        done = m["requests"] > 0
        lines.append(
            f"| {backend} | {scenario} | {m['fixture']} | {_f(m['bytes'])} | {conns} "
            f"| {_f(m['rps'])} "
            f"| {_f(m['p50_ms'], 2) if done else 'none done'} "
            f"| {_f(m['p99_ms'], 2) if done else '-'} | {_f(m['rss_mb'], 0)} "
            f"| {_f(floor['rps']) if floor else '-'} "
            f"| {_ratio(m['rps'], floor['rps'] if floor else None)} "
            f"| {_f(un['rps']) if un else '-'} | {_versus(m['rps'], un)} "
            f"| {_f(un['p99_ms'], 2) if un else '-'} | {m['errors']} |"
        )
    refs = sorted(k for k in med if k[0] == "unleash")
    if refs:
        lines += [
            "",
            "Real Unleash server (reference):",
            "",
            "| scenario | conns | req/s | p50 ms | p99 ms | peak RSS MB | errors |",
            "|---|---|---|---|---|---|---|",
        ]
        for key in refs:
            m = med[key]
            lines.append(
                f"| {key[2]} | {key[3]} | {_f(m['rps'])} | {_f(m['p50_ms'], 2)} "
                f"| {_f(m['p99_ms'], 2)} | {_f(m['rss_mb'], 0)} | {m['errors']} |"
            )
    return "\n".join(lines)


_ORDER = [
    "unleash list",
    "unleash get",
    "unleash client features",
    "unleash client features fleet",
    "unleash frontend",
    "adobe list",
    "adobe get",
    "confidence list",
    "confidence get",
    "v23 list",
    "hal list",
    "hal get",
    "segmux list",
    "segmux get",
    "segmux evaluate 1000",
    "ofrep bulk 50 flags",
    "hal members 100k",
    *(
        f"{d} {w}"
        for d in ("unleash", "adobe", "confidence", "v23", "hal", "segmux")
        for w in ("create", "update")
    ),
]


def _order(scenario: str) -> int:
    return _ORDER.index(scenario) if scenario in _ORDER else len(_ORDER)


WRITE_GROWTH_MB = 260
"""What the write scenarios may add to a process's memory: the bounds of the caches a write's
answer fills (docs/settings-security.md, "What writes leave behind"): seven segment projections
(the five of ``/segmux/v1``'s renderings, HAL's and Confidence's own) at 32 MB each, the encoded
renderings' 32 MB and the timestamps' 4 MB. The writes go to a tenant of their own and the
segments accumulate (~200,000 over a whole ``make bench``), so these caches fill."""


def targets(
    med: dict[Key, dict[str, Any]], warmup_rss: dict[str, float] | None
) -> list[tuple[str, str, bool | None]]:
    """The performance targets (README, Performance), each as (target, measured, met); None =
    not measured.

    Two RSS targets per backend. The first is the peak of a gateway process with fixture B
    loaded: after one list per dialect over it and the probes, before any scenario (the
    process is the same for every run, so a read scenario of the second run already carries
    the first run's writes). The second is the largest peak seen during any scenario (VmHWM is
    reset before each), writes included, against 200 MB plus :data:`WRITE_GROWTH_MB`."""
    out: list[tuple[str, str, bool | None]] = []

    def get(*key: Any) -> dict[str, Any] | None:
        return med.get(key)

    for backend in ("postgres", "sqlite"):
        for scenario, label, times in (
            ("unleash list", "Unleash admin segments", 5),
            ("unleash frontend", "Unleash frontend API, another user per request,", 5),
            ("unleash create", "Unleash admin segment create", 3),
            ("unleash update", "Unleash admin segment update", 3),
        ):
            s, u = get("segmux", backend, scenario, 10), get("unleash", "-", scenario, 10)
            if s and u and u["errors"]:
                out.append(
                    (f"{label} ≥ {times}x ({backend})", f"Unleash: {u['errors']:,} errors", None)
                )
            elif s and u:
                r, p = s["rps"] / u["rps"], s["p99_ms"] / u["p99_ms"] if u["p99_ms"] else 0.0
                out.append(
                    (
                        f"{label} ≥ {times}x req/s, p99 ≤ ⅓ ({backend})",
                        f"{r:.2f}x req/s, p99 {p:.2f}x of Unleash's",
                        r >= times and p <= 1 / 3,
                    )
                )
        s = get("segmux", backend, "unleash client features", 10)
        u = get("unleash", "-", "unleash client features", 10)
        ratio(out, f"Unleash client features ≥ 3x req/s ({backend})", s, u, 3)
        fleet = get("segmux", backend, "unleash client features fleet", 10)
        u = get("unleash", "-", "unleash client features fleet", 10)
        fleet_of = "client features from 10,000 SDK instances"
        ratio(out, f"{fleet_of} ≥ 80% of one instance ({backend})", fleet, s, 0.8)
        ratio(out, f"{fleet_of} ≥ 5x req/s ({backend})", fleet, u, 5)
        label = f"{backend} defaults"
        for scenario in (
            "unleash list",
            "unleash client features",
            "unleash client features fleet",
        ):
            ratio(
                out,
                f"{scenario}, default settings, ≥ 70% of the floor ({backend})",
                get("segmux", label, scenario, 10),
                floor_of(med, label, scenario, 10),
                0.7,
            )
    worst: tuple[float, str] | None = None
    below = 0
    counted = 0
    for key, m in med.items():
        target, backend, scenario, conns = key
        if (target, backend, conns) != ("segmux", "postgres", 10):
            continue
        if not (scenario.endswith(" list") or scenario.endswith(" get")):
            continue
        floor = floor_of(med, backend, scenario, 10)
        if floor and floor["rps"]:
            r = m["rps"] / floor["rps"]
            counted += 1
            below += r < 0.5
            if worst is None or r < worst[0]:
                worst = (r, scenario)
    if worst:
        out.append(
            (
                "every dialect's list and get ≥ 50% of the floor (postgres)",
                f"{below} of {counted} below 0.5x; worst {worst[0]:.2f}x ({worst[1]})",
                worst[0] >= 0.5,
            )
        )
    for backend in ("postgres", "sqlite"):
        e = get("segmux", backend, "segmux evaluate 1000", 1)
        if e:
            out.append(
                (
                    f"evaluate 1,000 segments p50 ≤ 2 ms at 1 connection ({backend})",
                    f"{e['p50_ms']:.2f} ms",
                    e["p50_ms"] <= 2,
                )
            )
    h = get("segmux", "postgres", "hal members 100k", 1) or get(
        "segmux", "postgres", "hal members 100k", 10
    )
    if h:
        out.append(
            (
                "HAL members first page over 100,000 p50 ≤ 20 ms (postgres, 1 conn)",
                f"{h['p50_ms']:.2f} ms",
                h["p50_ms"] <= 20,
            )
        )
    for backend in ("postgres", "sqlite"):
        read = (warmup_rss or {}).get(backend, 0.0)
        if read:
            out.append(
                (
                    f"peak RSS of one gateway process, fixture B loaded, ≤ 200 MB ({backend})",
                    f"{read:.0f} MB",
                    read <= 200,
                )
            )
        peaks = [m["rss_mb"] for k, m in med.items() if k[0] == "segmux" and k[1] == backend]
        if peaks and max(peaks):
            peak = max(peaks)
            bound = 200 + WRITE_GROWTH_MB
            out.append(
                (
                    f"peak RSS of one gateway process over every scenario, writes included, "
                    f"≤ {bound} MB (200 + what writes may keep) ({backend})",
                    f"{peak:.0f} MB",
                    peak <= bound,
                )
            )
    return out


def ratio(
    out: list[tuple[str, str, bool | None]],
    name: str,
    measured: dict[str, Any] | None,
    reference: dict[str, Any] | None,
    at_least: float,
) -> None:
    """A target on req/s over a reference's, added when both were measured (not met, and no
    ratio, when the reference answered errors)."""
    if measured and reference and reference["errors"]:
        out.append((name, f"the reference answered {reference['errors']:,} errors", None))
    elif measured and reference and reference["rps"]:
        r = measured["rps"] / reference["rps"]
        out.append((name, f"{r:.2f}x", r >= at_least))


def targets_md(rows: list[tuple[str, str, bool | None]]) -> str:
    lines = ["| target | measured | met |", "|---|---|---|"]
    for name, measured, met in rows:
        verdict = "yes" if met else "no" if met is False else "-"
        lines.append(f"| {name} | {measured} | {verdict} |")
    return "\n".join(lines)


def _cmd(*args: str) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    mem = re.search(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.M)
    return {
        "cores": str(os.cpu_count()),
        "cpu": model.group(1).strip() if model else "?",
        "ram": f"{int(mem.group(1)) / 1024 / 1024:.1f} GiB" if mem else "?",
        "kernel": platform.release(),
        "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def versions(pg_version: str, unleash: str | None) -> dict[str, str]:
    from importlib.metadata import version

    def v(pkg: str) -> str:
        try:
            return version(pkg)
        except Exception:
            return "-"

    return {
        "python": platform.python_version(),
        **{
            p: v(p)
            for p in (
                "uvicorn",
                "starlette",
                "uvloop",
                "httptools",
                "msgspec",
                "asyncpg",
                "aiosqlite",
            )
        },
        "postgresql": pg_version,
        "node": _cmd("node", "--version"),
        "unleash-server": unleash or "not run",
        "wrk": _cmd("sh", "-c", "dpkg-query -W -f='${Version}' wrk"),
        "commit": _cmd("git", "rev-parse", "--short", "HEAD")
        + (" (+ uncommitted changes)" if _cmd("git", "status", "--porcelain", "--", ".") else ""),
    }


def _busy(m: dict[str, str]) -> bool:
    first = re.search(r"\d+(\.\d+)?", m.get("loadavg", ""))
    return first is not None and float(first.group(0)) > float(m.get("cores") or 0)


def results_block(doc: dict[str, Any], med: dict[Key, dict[str, Any]]) -> str:
    """The section of bench/RESULTS.md for one set of runs (paste it, or ``--write-results``)."""
    m, v = doc["machine"], doc["versions"]
    t = targets(med, doc.get("fixture_b_rss_mb"))
    runs = max((x["runs"] for x in med.values()), default=0)
    lines = [
        f"## `make bench` — {doc['date']}",
        "",
        f"Command: `{doc['command']}` ({runs} run(s) per figure, medians; "
        f"{doc['duration']:g} s per wrk run; workers: {doc['workers']}; "
        f"SEGMUX_LOG_LEVEL={doc['log_level']}; "
        f"SEGMUX_FRESHNESS={doc.get('freshness', 'strict (before it existed)')}).",
        f"Machine: {m['cores']} cores, {m['cpu']}, {m['ram']} RAM, Linux {m['kernel']}; "
        f"load average at start {m['loadavg']}."
        + (
            " The machine was busy with other work (load above its core count): the figures "
            "are noisy, throughput low and latency high."
            if _busy(m)
            else ""
        ),
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
        "Fixture A: 50 segments x 2 constraints, 10 features using 2 segments each (loaded "
        "through the Unleash API, into segmux and the real server alike). Fixture B: 10,000 "
        "segments of every dialect's flavour + 100,000 individuals (bulk, through the store). "
        "`evaluate 1000` runs against a tenant of 1,000 segments; `hal members 100k` is the first "
        "page (20) of a DYNAMIC segment (`city eq 'Madrid' and 30 ≤ age < 40`, ~2.5%) over "
        "100,000 individuals. `ofrep bulk 50 flags` evaluates a tenant's 25 Unleash features "
        "(50% rollouts with weighted variants) and 25 Confidence flags (split, fallthrough and "
        "default rules) through OFREP's bulk endpoint for a new targetingKey per request. "
        "xfloor = segmux req/s ÷ a bare Starlette app returning the same "
        "body, measured right after each segmux run (same backend's body; medians of each); "
        "xUnleash = segmux req/s ÷ unleash-server's on the same data.",
        "",
        targets_md(t),
        "",
        table(med),
    ]
    if doc.get("notes"):
        lines += ["", *doc["notes"]]
    return "\n".join(lines)


START, END = "<!-- bench:make-bench:start -->", "<!-- bench:make-bench:end -->"


def write_results(path: Path, block: str, start: str = START, end: str = END) -> None:
    """Replace a generated section of RESULTS.md (between its markers: by default
    ``make bench``'s), or append it."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    section = f"{start}\n{block}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)
