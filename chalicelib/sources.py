"""Fetch a project's source into an isolated build directory; the project's own tree is never built.

Three kinds: a local path (copied without node_modules, .mastra and .git), a git URL at a commit
or branch (file:// works), and a GitHub repository tarball at a commit through the GitHub API
with the project's stored token. Vendor failures become `SourceError` with a reason for the build.

Local paths and file:// URLs are checked again here, when the build fetches, on the decoded and
resolved path (a symlink swapped in after the project was created counts): inside a root of
MA_LOCAL_SOURCE_ROOTS, not a root itself, and neither inside nor around the control plane's own
state ($MA_HOME, the build and server roots). Only regular files, directories and symlinks are
copied. Git runs with an environment built from scratch: no SSH agent, askpass, credential helper,
system or global configuration, and an empty HOME, so it reaches only what needs no identity.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from chalicelib.settings import Settings

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


def get_settings() -> Settings:
    # Imported on use: CodeBuild runs this module with the standard library only
    # (chalicelib/runners/codebuild_fetch.py), where git and GitHub sources need no settings.
    from chalicelib.settings import get_settings as settings

    return settings()


def fetch(source: dict, ref: str | None, dest: Path, log: Log, *, github_token: str | None = None,
          github_api_url: str = "https://api.github.com", settings: Settings | None = None) -> Fetched:
    settings = settings or get_settings()
    kind = source.get("type")
    if kind == "local":
        return copy_local(check_local_path(source["path"], settings), dest, log)
    if kind == "git":
        url = source["url"]
        if urllib.parse.urlsplit(url).scheme == "file":
            url = _file_url(check_file_url(url, settings))
        return clone_git(url, ref or source.get("branch") or "main", dest, log)
    if kind == "github":
        return download_github(source["repo"], ref or source.get("branch") or "main", dest, log,
                               token=github_token, api_url=github_api_url)
    raise SourceError(f"unknown source type {kind!r}")


# --- where a local source may be ------------------------------------------------------------------

CONTROL_PLANE_CODE = Path(__file__).resolve().parents[1]


def _inside(path: str, parent: str) -> bool:
    return os.path.commonpath([path, parent]) == parent


def _protected(settings: Settings) -> list[str]:
    """The control plane's own state and code: never a source, never inside one."""
    paths = [*settings.protected_paths, settings.build_root, settings.server_root, settings.node_cache,
             settings.clickhouse_path, str(CONTROL_PLANE_CODE)]
    return [os.path.realpath(p) for p in paths if p]


def check_local_path(raw: str, settings: Settings) -> Path:
    """The real path of a local source, or `SourceError`: absolute, no `..` segment, strictly inside a
    root of MA_LOCAL_SOURCE_ROOTS (a root itself is refused), and apart from the control plane's state."""
    if not settings.local_sources_enabled:
        raise SourceError("local sources are disabled in this stage")
    if not os.path.isabs(raw) or "\0" in raw or ".." in PurePosixPath(raw).parts:
        raise SourceError("a local source path must be absolute, without '..' segments")
    real = os.path.realpath(raw)
    roots = [os.path.realpath(os.path.expanduser(root)) for root in settings.local_source_roots]
    if real in roots or real == "/":
        raise SourceError(f"{real} is a source root itself; point at a project directory inside it")
    if not any(_inside(real, root) for root in roots):
        raise SourceError(f"{real} is not under MA_LOCAL_SOURCE_ROOTS")
    for protected in _protected(settings):
        if _inside(real, protected) or _inside(protected, real):
            raise SourceError(f"{real} holds or is inside the control plane's own files ({protected})")
    return Path(real)


ENCODED_SEPARATORS = ("%2f", "%5c", "%00")


def check_file_url(url: str, settings: Settings) -> Path:
    """The real path a file:// git URL names, checked as `check_local_path` does, after decoding (git
    decodes %-escapes itself, so `file:///root/%2e%2e/x` must be read as `/root/../x`)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise SourceError("a file:// URL must be file:///absolute/path")
    if any(code in parts.path.lower() for code in ENCODED_SEPARATORS) or "\\" in parts.path:
        raise SourceError("a file:// URL may not hold encoded separators (%2f, %5c) or backslashes")
    path = check_local_path(urllib.parse.unquote(parts.path), settings)
    _refuse_git_indirection(path)
    return path


def _refuse_git_indirection(path: Path) -> None:
    """A repository can borrow another's objects (a `.git` file, alternates, commondir): refuse them,
    or a repository inside the roots would serve one outside them."""
    for git_dir in (path, path / ".git"):
        if git_dir.name == ".git" and git_dir.is_file():
            raise SourceError("the repository's .git is a file pointing elsewhere (gitdir:); not allowed")
        for borrowed in ("commondir", "objects/info/alternates", "objects/info/http-alternates"):
            if (git_dir / borrowed).exists():
                raise SourceError(f"the repository borrows objects from elsewhere ({borrowed}); not allowed")


def _file_url(path: Path) -> str:
    return "file://" + urllib.parse.quote(str(path))


# --- local copies ----------------------------------------------------------------------------------


def _copy_regular(src: str, dst: str) -> None:
    """copytree's copy function: regular files only. A FIFO would block the open, a socket or device
    fail it: each becomes a reason instead. Opened without following links and without blocking."""
    mode = os.lstat(src).st_mode
    if not stat.S_ISREG(mode):
        raise SourceError(f"{src} is a {_kind(mode)}: only regular files, directories and symlinks are copied")
    fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with open(fd, "rb") as f:
        mode = os.fstat(f.fileno()).st_mode
        if not stat.S_ISREG(mode):  # swapped since the lstat
            raise SourceError(f"{src} is a {_kind(mode)}: only regular files, directories and symlinks are copied")
        with open(dst, "wb") as out:
            shutil.copyfileobj(f, out)
    shutil.copystat(src, dst, follow_symlinks=False)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "directory"), (stat.S_ISLNK, "symlink")):
        if test(mode):
            return name
    return "special file"


def copy_local(path: Path, dest: Path, log: Log) -> Fetched:
    if not path.is_dir():
        raise SourceError(f"local source {path} is not a directory")
    log(f"copying {path} (without {', '.join(SKIPPED)})")
    try:
        shutil.copytree(path, dest, symlinks=True, ignore=shutil.ignore_patterns(*SKIPPED),
                        copy_function=_copy_regular)
    except shutil.Error as e:  # per-file OSErrors, gathered by copytree
        first = e.args[0][0] if e.args and e.args[0] else None
        raise SourceError(f"copying the local source failed: {first[2] if first else e}") from e
    commit = None
    if (path / ".git").exists():
        try:
            commit = _git(["-C", str(path), "rev-parse", "HEAD"], lambda _line: None) or None
        except SourceError:
            commit = None
    return Fetched(dest, commit)


# --- git -------------------------------------------------------------------------------------------

PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE", "SSL_CERT_DIR",
                  "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")
# ssh reads ~/.ssh from the passwd entry, not $HOME: name every file it would otherwise take from there.
SSH_COMMAND = ("ssh -F /dev/null -o IdentityAgent=none -o IdentitiesOnly=yes -o IdentityFile=/dev/null"
               " -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=/dev/null")
GIT_OPTIONS = ("-c", "credential.helper=", "-c", "core.askPass=", "-c", "core.fsmonitor=false",
               "-c", "core.hooksPath=/dev/null", "-c", "protocol.ext.allow=never")


def git_env(home: str) -> dict[str, str]:
    """Git's whole environment: built from scratch, nothing of the operator's identity in it."""
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env.update(HOME=home, XDG_CONFIG_HOME=home, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null",
               GIT_TERMINAL_PROMPT="0", GIT_SSH_COMMAND=SSH_COMMAND, GCM_INTERACTIVE="never")
    return env


def _git(args: list[str], log: Log, cwd: Path | None = None) -> str:
    with tempfile.TemporaryDirectory(prefix="ma-git-home-") as home:
        try:
            done = subprocess.run(["git", *GIT_OPTIONS, *args], cwd=cwd, capture_output=True, text=True,
                                  env=git_env(home), stdin=subprocess.DEVNULL, timeout=GIT_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            raise SourceError(f"git {args[0]} timed out") from e
        except FileNotFoundError as e:  # permanent: retrying the build would not install git
            raise SourceError("git is not installed where this build runs") from e
    for line in (done.stdout + done.stderr).splitlines():
        log(f"git: {line}")
    if done.returncode != 0:
        raise SourceError(f"git {args[0]} failed (exit {done.returncode})")
    return done.stdout.strip()


def clone_git(url: str, ref: str, dest: Path, log: Log) -> Fetched:
    log(f"cloning {_without_credentials(url)} at {ref}")
    _git(["clone", "--quiet", "--no-checkout", "--", url, str(dest)], log)
    _git(["checkout", "--quiet", "--detach", ref, "--"], log, cwd=dest)
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
