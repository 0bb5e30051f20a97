"""Fetch a project's source into an isolated build directory; the project's own tree is never built.

Three kinds: a local path (copied without node_modules, .mastra and .git), a git URL at a commit
or branch (file:// works), and a GitHub repository tarball at a commit through the GitHub API
with the project's stored token. Vendor failures become `SourceError` with a reason for the build.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

SKIPPED = ("node_modules", ".mastra", ".git")
GIT_TIMEOUT = 300
HTTP_TIMEOUT = 60
SOURCE_MAX_BYTES = 512 * 1024 * 1024  # a source tarball, downloaded and unpacked (node_modules is never in it)
MAX_MEMBERS = 500_000

Log = Callable[[str], None]


class SourceError(Exception):
    """The source could not be fetched; the message is safe to show in the build's reason."""


@dataclass(frozen=True)
class Fetched:
    path: Path
    commit: str | None


def fetch(source: dict, ref: str | None, dest: Path, log: Log, *, github_token: str | None = None,
          github_api_url: str = "https://api.github.com") -> Fetched:
    kind = source.get("type")
    if kind == "local":
        return copy_local(Path(source["path"]), dest, log)
    if kind == "git":
        return clone_git(source["url"], ref or source.get("branch") or "main", dest, log)
    if kind == "github":
        return download_github(source["repo"], ref or source.get("branch") or "main", dest, log,
                               token=github_token, api_url=github_api_url)
    raise SourceError(f"unknown source type {kind!r}")


def copy_local(path: Path, dest: Path, log: Log) -> Fetched:
    if not path.is_dir():
        raise SourceError(f"local source {path} is not a directory")
    log(f"copying {path} (without {', '.join(SKIPPED)})")
    shutil.copytree(path, dest, symlinks=True, ignore=shutil.ignore_patterns(*SKIPPED))
    commit = None
    if (path / ".git").exists():
        done = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True)
        commit = done.stdout.strip() or None if done.returncode == 0 else None
    return Fetched(dest, commit)


def _git(args: list[str], log: Log, cwd: Path | None = None) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=GIT_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise SourceError(f"git {args[0]} timed out") from e
    for line in (done.stdout + done.stderr).splitlines():
        log(f"git: {line}")
    if done.returncode != 0:
        raise SourceError(f"git {args[0]} failed (exit {done.returncode})")
    return done.stdout.strip()


def clone_git(url: str, ref: str, dest: Path, log: Log) -> Fetched:
    log(f"cloning {_without_credentials(url)} at {ref}")
    _git(["clone", "--quiet", "--no-checkout", url, str(dest)], log)
    _git(["checkout", "--quiet", "--detach", ref], log, cwd=dest)
    commit = _git(["rev-parse", "HEAD"], log, cwd=dest)
    shutil.rmtree(dest / ".git")
    return Fetched(dest, commit)


def _without_credentials(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.username or parts.password:
        return urllib.parse.urlunsplit(parts._replace(netloc=parts.hostname or ""))
    return url


def _github_get(url: str, token: str | None, accept: str) -> urllib.request.addinfourl:
    headers = {"Accept": accept, "User-Agent": "mastra-admin", "X-GitHub-Api-Version": "2022-11-28"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=HTTP_TIMEOUT)
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            raise SourceError(f"GitHub refused the token (HTTP {e.code})") from e
        if e.code == 404:
            raise SourceError("GitHub repository or ref not found (or the token cannot see it)") from e
        raise SourceError(f"GitHub answered HTTP {e.code}") from e
    except (urllib.error.URLError, TimeoutError) as e:
        raise SourceError(f"GitHub is unreachable: {getattr(e, 'reason', e)}") from e


def download_github(repo: str, ref: str, dest: Path, log: Log, *, token: str | None, api_url: str) -> Fetched:
    quoted_ref = urllib.parse.quote(ref, safe="")
    with _github_get(f"{api_url}/repos/{repo}/commits/{quoted_ref}", token, "application/vnd.github+json") as r:
        commit = json.load(r)["sha"]
    log(f"downloading {repo} at {commit[:12]} from the GitHub API")
    dest.mkdir(parents=True)
    with tempfile.TemporaryFile() as tmp:
        with _github_get(f"{api_url}/repos/{repo}/tarball/{commit}", token, "application/vnd.github+json") as r:
            copy_capped(r, tmp, SOURCE_MAX_BYTES, "the source tarball", SourceError)
        tmp.seek(0)
        try:
            with tarfile.open(fileobj=tmp, mode="r:gz") as tar:
                _extract_stripped(tar, dest)
        except (tarfile.TarError, EOFError, OSError) as e:  # gzip and filter errors included
            raise SourceError(f"the source tarball cannot be unpacked: {e}") from e
    return Fetched(dest, commit)


def _extract_stripped(tar: tarfile.TarFile, dest: Path) -> None:
    """GitHub tarballs hold one top directory ({owner}-{repo}-{sha}/): drop it; refuse escapes."""
    members = []
    for member in tar.getmembers():
        parts = PurePosixPath(member.name).parts[1:]
        if not parts or parts[0] in SKIPPED:
            continue
        if member.issym() or member.islnk() or not (member.isfile() or member.isdir()):
            continue  # links could point outside the build directory
        member.name = str(PurePosixPath(*parts))
        members.append(member)
    extract_capped(tar, dest, members, SOURCE_MAX_BYTES, "the source tarball", SourceError)


def copy_capped(src, dst, max_bytes: int, what: str, error: type[Exception]) -> int:
    """Copy a stream, refusing (with `error`) one longer than `max_bytes`."""
    total = 0
    while block := src.read(1 << 20):
        total += len(block)
        if total > max_bytes:
            raise error(f"{what} is larger than {max_bytes // (1 << 20)} MiB")
        dst.write(block)
    return total


def extract_capped(tar: tarfile.TarFile, dest: Path, members: list[tarfile.TarInfo] | None, max_bytes: int,
                   what: str, error: type[Exception]) -> None:
    """Unpack with the `data` filter (no absolute or escaping paths or links, no devices, no setuid
    bits), refusing an archive that unpacks to more than `max_bytes` or too many files."""
    members = tar.getmembers() if members is None else members
    if len(members) > MAX_MEMBERS:
        raise error(f"{what} holds more than {MAX_MEMBERS} entries")
    if sum(m.size for m in members if m.isfile()) > max_bytes:
        raise error(f"{what} unpacks to more than {max_bytes // (1 << 20)} MiB")
    try:
        tar.extractall(dest, members=members, filter="data")
    except tarfile.FilterError as e:
        raise error(f"{what} holds an entry that may not be unpacked: {e}") from e
