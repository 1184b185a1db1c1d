"""Which segmux this is: the installed distribution's version and, when it runs from a git
checkout, the commit.

The version comes from the package metadata (``pyproject.toml``'s ``version``, the one place it is
written), so ``segmux --version``, the metrics' build info and the wheel's name agree. The commit
is read from ``.git`` beside the packages without running ``git`` (which may not be installed
where segmux runs); an installed wheel has no ``.git`` and reports ``unknown``.
"""

from __future__ import annotations

import contextlib
import platform
from functools import cache
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "segmux"
UNKNOWN = "unknown"


@cache
def version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        # Imported from a checkout that was never installed (PYTHONPATH=.): say so rather than
        # guess a number.
        return "0+unknown"


@cache
def commit(root: Path | None = None) -> str:
    """The checkout's HEAD commit (40 hex digits), or ``unknown``."""
    git = (root or Path(__file__).resolve().parents[1]) / ".git"
    if git.is_file():  # a worktree: ".git" holds "gitdir: <path>"
        text = git.read_text(encoding="utf-8", errors="replace").strip()
        if not text.startswith("gitdir:"):
            return UNKNOWN
        git = (git.parent / text.removeprefix("gitdir:").strip()).resolve()
    try:
        head = (git / "HEAD").read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return UNKNOWN
    if not head.startswith("ref: "):
        return head if _is_sha(head) else UNKNOWN
    return _ref(git, head.removeprefix("ref: "))


def _ref(git: Path, ref: str) -> str:
    # A worktree keeps its HEAD but shares refs with the main repository ("commondir").
    common = git
    with contextlib.suppress(OSError, UnicodeDecodeError):
        common = (git / (git / "commondir").read_text(encoding="ascii").strip()).resolve()
    for base in dict.fromkeys((git, common)):
        try:
            sha = (base / ref).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if _is_sha(sha):
            return sha
    try:
        packed = (common / "packed-refs").read_text(encoding="ascii", errors="replace")
    except OSError:
        return UNKNOWN
    for line in packed.splitlines():
        sha, _, name = line.partition(" ")
        if name == ref and _is_sha(sha):
            return sha
    return UNKNOWN


def _is_sha(text: str) -> bool:
    return len(text) == 40 and all(c in "0123456789abcdef" for c in text)


def describe() -> str:
    """One line for ``segmux --version``: version, short commit when known, Python."""
    sha = commit()
    built = "" if sha == UNKNOWN else f" (commit {sha[:12]})"
    return f"segmux {version()}{built}, Python {platform.python_version()}"
