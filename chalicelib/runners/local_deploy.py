"""LocalDeployRunner: a build's artifact started as a process on this machine.

The artifact is downloaded from S3 and unpacked into the server's own directory
(`{server_root}/{serverId}/app`); `mastra-admin.json` says how to start it. The process gets its
own session and no parent-death signal, so it outlives the worker and a killed supervisor: its pid
(and start time, against pid reuse), port and directory are kept in the Server item, and a
restarted stack reattaches to it (`kill_strays` ends any other process left in a server
directory). A stack that stops cleanly stops its servers first (services/deploys/servers.stop_all). stdout and stderr go through a log writer (`server_log`, the leader of the
server's process group) to `{serverId}/server.log`: rotated past a size, long lines cut, indexed by
line offset; observability files it closes are shipped to S3 by `ship`. Where the machine allows it
(MA_SANDBOX) the server runs as the tenant user inside bubblewrap (`sandbox.py`), its `app/` and home
its own; the log writer stays outside.
"""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import socket
import stat
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from pathlib import Path

from chalicelib import aws
from chalicelib.db.models import Deployment, Server
from chalicelib.runners.deploy_port import (
    OBSERVABILITY_KINDS, LogSlice, Probe, ServerSpec, Started, observability_key,
)
from chalicelib.runners import sandbox, server_log
from chalicelib.runners.injection import read_manifest
from chalicelib.runners.local_build import kill_tree
from chalicelib.runners import package_managers
from chalicelib.runners.node_toolchain import DEFAULT_MAJOR, NODE_VERSIONS, NodeToolchainError
from chalicelib.settings import Settings
from chalicelib.sources import extract_capped

LOG_NAME = "server.log"
STOP_GRACE_SECONDS = 10.0


class StartError(RuntimeError):
    """The artifact could not be fetched, unpacked or started."""


class LocalDeployRunner:
    name = "local"

    def __init__(self, settings: Settings, s3=None):
        self.settings = settings
        self.root = Path(settings.server_root)
        self.node_cache = Path(settings.node_cache or Path(settings.build_root) / ".node")
        self._s3 = s3
        self._cpu: dict[str, tuple[float, float]] = {}  # serverId -> (wall time, cpu seconds) at the last probe
        self._ports_lock = threading.Lock()

    @property
    def s3(self):
        return self._s3 or aws.client("s3")

    def workdir(self, server_id: str) -> Path:
        return self.root / server_id

    # --- start ------------------------------------------------------------------------------

    def start(self, spec: ServerSpec) -> Started:
        try:
            box = sandbox.for_settings(self.settings)
        except sandbox.SandboxError as e:
            raise StartError(str(e)) from e
        workdir = self.workdir(spec.server_id)
        app = workdir / "app"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True, mode=0o700)
        app.mkdir(mode=0o700)
        self._fetch(spec, workdir / "artifact.tgz", app)
        try:
            manifest = read_manifest(app)
        except ValueError as e:
            raise StartError(str(e)) from e
        bins = self._toolchain(manifest)
        node_bin = bins[-1]
        env = self._env(spec, bins, workdir, box)
        argv = self._argv(manifest["start"], node_bin, env["PATH"])
        launch = None
        if box is not None:
            # The server's directory (its home) is the tenant user's; the log stays root's.
            home = workdir / "home"
            home.mkdir(mode=0o700)
            box.give(app, home)
            box.give(self.node_cache)  # read-only inside
            launch = box.wrap(argv, app, rw=[app, home], ro=[self.node_cache.resolve()])
            argv = launch.argv
        port = self._allocate_port()
        env["PORT"] = str(port)
        # The log writer (server_log) leads the server's group and caps its output in rotated files.
        # Run by path in isolated mode (-I): the project's PYTHON* variables do not reach it.
        writer = [sys.executable, "-I", server_log.__file__, "--log", str(workdir / LOG_NAME),
                  "--max-bytes", str(self.settings.server_log_max_bytes),
                  "--generations", str(self.settings.server_log_generations),
                  "--max-line-bytes", str(self.settings.server_log_max_line_bytes), "--"]
        try:
            import subprocess

            proc = subprocess.Popen([*writer, *argv], cwd=app, stdin=subprocess.DEVNULL, env=env,
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True,
                                    preexec_fn=launch.preexec if launch is not None else None)
        except (OSError, subprocess.SubprocessError) as e:
            raise StartError(f"cannot start {argv[0]!r}: {e}") from e
        finally:
            if launch is not None:
                launch.close()  # the writer's mount namespace holds the sandbox's sources
        # Reap it when it exits while this process lives (no zombie posing as a live server).
        threading.Thread(target=proc.wait, daemon=True, name=f"reap-{spec.server_id}").start()
        return Started(host="127.0.0.1", port=port, pid=proc.pid, pid_started_at=_create_time(proc.pid),
                       workdir=str(workdir))

    def _fetch(self, spec: ServerSpec, tarball: Path, app: Path) -> None:
        try:
            obj = self.s3.get_object(Bucket=spec.artifact_bucket, Key=spec.artifact_key)
        except Exception as e:
            raise StartError(f"artifact s3://{spec.artifact_bucket}/{spec.artifact_key}: {aws.error_code(e) or e}") from e
        max_bytes = self.settings.artifact_max_mb * 1024 * 1024
        digest, size = hashlib.sha256(), 0
        with open(tarball, "wb") as f:
            for block in obj["Body"].iter_chunks(1 << 20):
                size += len(block)
                if size > max_bytes:
                    raise StartError(f"artifact is larger than {self.settings.artifact_max_mb} MiB (MA_ARTIFACT_MAX_MB)")
                digest.update(block)
                f.write(block)
        if spec.artifact_sha256 and digest.hexdigest() != spec.artifact_sha256:
            raise StartError(f"artifact checksum mismatch: {digest.hexdigest()} != {spec.artifact_sha256}")
        try:
            with tarfile.open(tarball, "r:gz") as tar:
                extract_capped(tar, app, None, max_bytes, "artifact", StartError)
        except (tarfile.TarError, EOFError, OSError) as e:
            raise StartError(f"artifact cannot be unpacked: {e}") from e
        tarball.unlink(missing_ok=True)

    def _toolchain(self, manifest: dict) -> list[Path]:
        """The Node major the build used (the manifest says; older artifacts: the default) and its
        package manager (a start command such as `pnpm start` calls it): bin dirs for PATH."""
        major = manifest.get("node") if manifest.get("node") in NODE_VERSIONS else DEFAULT_MAJOR
        label = manifest.get("packageManager")
        manager = package_managers.from_label(label) if isinstance(label, str) and label else None
        try:
            return package_managers.toolchain_path(self.node_cache, major, manager)
        except NodeToolchainError as e:
            raise StartError(f"the toolchain of the build (Node {major}, {label}) could not be installed: {e}") from e

    def _env(self, spec: ServerSpec, bins: list[Path], workdir: Path,
             box: sandbox.Sandbox | None = None) -> dict[str, str]:
        # User code: a clean environment (the machine's locale, proxies and CA bundles), never the
        # control plane's settings, credentials or SSH agent; then the project's variables, then
        # what the platform sets.
        home = str(workdir / "home") if box is not None else os.environ.get("HOME", "/")
        return sandbox.clean_env({
            **spec.env, **spec.runtime_env(),
            "PATH": os.pathsep.join([*map(str, bins), sandbox.tool_path(box)]),
            "MASTRA_ADMIN_OBSERVABILITY_DIR": str(workdir / "app" / "observability"),
        }, home)

    @staticmethod
    def _argv(start: list[str], node_bin: Path, path: str) -> list[str]:
        if start[0] == "node":
            return [str(node_bin / "node"), *start[1:]]
        found = shutil.which(start[0], path=path)
        if not found:
            raise StartError(f"{start[0]!r} (from mastra-admin.json) is not on PATH")
        return [found, *start[1:]]

    def _allocate_port(self) -> int:
        """A free port of the configured range (random start: two workers rarely pick the same)."""
        low, high = self.settings.server_port_min, self.settings.server_port_max
        candidates = list(range(low, high + 1))
        random.shuffle(candidates)
        with self._ports_lock:
            for port in candidates:
                with socket.socket() as s:
                    try:
                        s.bind(("127.0.0.1", port))
                    except OSError:
                        continue
                    return port
        raise StartError(f"no free port in {low}-{high}")

    # --- observe ----------------------------------------------------------------------------

    def alive(self, server: Server) -> bool:
        return _process(server) is not None

    def probe(self, server: Server) -> Probe:
        proc = _process(server)
        if proc is None:
            self._cpu.pop(server.server_id, None)
            return Probe(alive=False, healthy=False, detail="the server process is gone")
        cpu, memory = self._usage(server.server_id, proc)
        url = f"http://{server.host or '127.0.0.1'}:{int(server.port)}{self.settings.health_path}"
        try:
            with urllib.request.urlopen(url, timeout=self.settings.health_request_timeout_seconds) as r:
                ok, detail = 200 <= r.status < 300, f"{self.settings.health_path} answered {r.status}"
        except urllib.error.HTTPError as e:
            ok, detail = False, f"{self.settings.health_path} answered {e.code}"
        except (OSError, ValueError) as e:
            ok, detail = False, f"{self.settings.health_path}: {getattr(e, 'reason', e)}"
        return Probe(alive=True, healthy=ok, detail=detail, cpu_percent=cpu, memory_bytes=memory)

    def _usage(self, server_id: str, proc) -> tuple[float | None, int | None]:
        import psutil

        cpu_seconds, rss = 0.0, 0
        for p in [proc, *_children(proc)]:
            try:
                times = p.cpu_times()
                cpu_seconds += times.user + times.system + times.children_user + times.children_system
                rss += p.memory_info().rss
            except psutil.Error:
                continue
        now = time.time()
        last = self._cpu.get(server_id)
        self._cpu[server_id] = (now, cpu_seconds)
        if last is None:
            elapsed = max(now - proc.create_time(), 1e-3)
            return round(100.0 * cpu_seconds / elapsed, 1), rss
        return round(100.0 * max(cpu_seconds - last[1], 0.0) / max(now - last[0], 1e-3), 1), rss

    def upstream(self, server: Server) -> str | None:
        return f"{server.host or '127.0.0.1'}:{int(server.port)}" if server.port else None

    def activate(self, deployment: Deployment, server: Server, previous: Server | None) -> dict | None:
        """Locally the route is the deployment item itself (the router reads it)."""
        return None

    def deactivate(self, deployment: Deployment, server: Server) -> None:
        pass

    # --- stop -------------------------------------------------------------------------------

    def stop(self, server: Server) -> None:
        """SIGTERM the server's group (the injected runtime rotates its files), then ship them."""
        proc = _process(server)
        if proc is not None:
            try:
                os.killpg(int(server.pid), signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            while time.monotonic() < deadline and _group_alive(int(server.pid)):
                time.sleep(0.05)
            if _group_alive(int(server.pid)):
                kill_tree(int(server.pid))
        self._cpu.pop(server.server_id, None)
        self.ship(server, final=True)

    # --- logs and observability -------------------------------------------------------------

    def log_path(self, server: Server) -> Path:
        return Path(server.workdir or self.workdir(server.server_id)) / LOG_NAME

    def logs(self, server: Server, since: int | None, tail: int | None, limit: int) -> LogSlice:
        """Lines by offset from the start of the server, through server_log's index (no rescan)."""
        path = self.log_path(server)
        max_line = self.settings.server_log_max_line_bytes
        if not path.exists():
            return LogSlice(since or 0, since or 0, [])
        if since is None:
            total = server_log.end_offset(path)
            count = min(tail or limit, limit)
            first, lines = server_log.read_lines(path, max(total - count, 0), count, max_line)
            return LogSlice(first, first + len(lines), lines)
        first, lines = server_log.read_lines(path, since, limit, max_line)
        if tail is not None and len(lines) > tail:
            return LogSlice(first + len(lines) - tail, first + len(lines), lines[-tail:])
        return LogSlice(first, first + len(lines), lines)

    def ship(self, server: Server, final: bool = False) -> int:
        """Upload closed observability files to S3 (then delete them); at `final`, the leftovers too.

        Keys: observability/{kind}/{teamId}/{projectId}/{deploymentId}/{ts}_{uuid}.jsonl. A file is
        deleted only after its upload succeeded, so a crash in between re-ships it (the ingest is
        idempotent per object and the key is the file's own name).
        """
        # The server's directory is the tenant's: every step is relative to an open directory and
        # follows no symbolic link, so a planted link cannot make this process read or write elsewhere.
        app = Path(server.workdir or self.workdir(server.server_id)) / "app"
        shipped = 0
        with _Dir.open(app) as app_dir, _Dir.sub(app_dir, "observability") as base:
            for kind in OBSERVABILITY_KINDS:
                with _Dir.sub(base, kind) as kind_dir:
                    if final and kind_dir:
                        _close_leftover(kind_dir)
                    with _Dir.sub(kind_dir, "closed") as closed:
                        if not closed:
                            continue
                        for name in sorted(n for n in os.listdir(closed.fd) if n.endswith(".jsonl")):
                            shipped += self._ship_one(server, kind, closed, name)
        return shipped

    def _ship_one(self, server: Server, kind: str, closed: "_Dir", name: str) -> int:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=closed.fd)
        except OSError:
            return 0  # gone, or a link
        with os.fdopen(fd, "rb") as body:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return 0
            if st.st_size:
                key = observability_key(kind, server.team_id, server.project_id or "-", server.deployment_id, name)
                self.s3.put_object(Bucket=self.settings.bucket_name, Key=key, Body=body,
                                   ContentType="application/x-ndjson",
                                   Metadata={"server-id": server.server_id, "build-id": server.build_id})
        try:
            os.unlink(name, dir_fd=closed.fd)
        except FileNotFoundError:
            pass
        return 1 if st.st_size else 0

    def remove(self, server: Server) -> None:
        shutil.rmtree(Path(server.workdir or self.workdir(server.server_id)) / "app", ignore_errors=True)


class _Dir:
    """An open directory (or None when missing or a link), closed on exit; falsy when missing."""

    def __init__(self, fd: int | None):
        self.fd = fd

    @classmethod
    def open(cls, path: Path) -> "_Dir":
        try:
            return cls(os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW))
        except OSError:
            return cls(None)

    @classmethod
    def sub(cls, parent: "_Dir", name: str, create: bool = False) -> "_Dir":
        if not parent:
            return cls(None)
        if create:
            try:
                os.mkdir(name, 0o700, dir_fd=parent.fd)
            except FileExistsError:
                pass
        try:
            return cls(os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent.fd))
        except OSError:
            return cls(None)

    def __bool__(self) -> bool:
        return self.fd is not None

    def __enter__(self) -> "_Dir":
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)


def _close_leftover(kind_dir: _Dir) -> None:
    """A current file the server could not rotate (killed): its whole lines become a closed file."""
    try:
        fd = os.open("current.jsonl", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=kind_dir.fd)
    except OSError:
        return
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        data = f.read()
    whole = data[: data.rfind(b"\n") + 1]
    if whole:
        with _Dir.sub(kind_dir, "closed", create=True) as closed:
            if not closed:
                return
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            out = os.open(f"{stamp}_{uuid.uuid4()}.jsonl", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                          0o600, dir_fd=closed.fd)
            with os.fdopen(out, "wb") as f:
                f.write(whole)
    try:
        os.unlink("current.jsonl", dir_fd=kind_dir.fd)
    except FileNotFoundError:
        pass


def kill_strays(root: Path, keep: set[int]) -> list[int]:
    """End every process group with a process working in a server directory under `root` whose
    group is not in `keep` (the pids of the servers a restarted stack reattached): what a killed
    stack left behind without a record. Returns the groups ended."""
    import psutil

    prefix = str(root.resolve()) + os.sep
    groups: set[int] = set()
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.status() != psutil.STATUS_ZOMBIE and (proc.cwd() + os.sep).startswith(prefix):
                groups.add(os.getpgid(proc.pid))
        except (psutil.Error, OSError):
            continue
    strays = sorted(groups - keep)
    for pgid in strays:
        kill_tree(pgid)
    return strays


def _create_time(pid: int) -> float | None:
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _process(server: Server):
    """The server's live process, or None (gone, a zombie, or a reused pid)."""
    import psutil

    if not server.pid:
        return None
    try:
        proc = psutil.Process(int(server.pid))
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        if server.pid_started_at and abs(proc.create_time() - float(server.pid_started_at)) > 1.0:
            return None
        return proc
    except psutil.Error:
        return None


def _children(proc) -> list:
    import psutil

    try:
        return proc.children(recursive=True)
    except psutil.Error:
        return []


def _group_alive(pgid: int) -> bool:
    import psutil

    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                return True
        except (ProcessLookupError, psutil.Error, OSError):
            continue
    return False
