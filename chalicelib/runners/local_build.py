"""LocalBuildRunner: the build phases as subprocesses, each in its own process group.

Used by the local stack (and anywhere without CodeBuild). Every phase runs in the build's isolated
workspace with Node 22 first on PATH; cancel and timeout kill the whole process tree. The group id
of the running phase is written next to the workspace so that the reaper, in another process, can
kill what a dead worker left behind. Where the machine allows it (MA_SANDBOX) each phase runs as the
tenant user inside bubblewrap (`sandbox.py`) with a clean environment; the workspace's source, home
and npm cache become that user's, the toolchain is bound read-only.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import tarfile
import threading
import time
from pathlib import Path, PurePosixPath

from chalicelib import aws
from chalicelib.db.models import Build
from chalicelib.db.statuses import BuildStatus
from chalicelib.runners import injection, package_managers, sandbox
from chalicelib.runners.build_plan import Phase, PlanError, describe, make_plan
from chalicelib.runners.build_port import BuildJob, Check, LogLine, Outcome
from chalicelib.runners.node_toolchain import NodeToolchainError
from chalicelib.services.builds import steps
from chalicelib.settings import Settings

PR_SET_PDEATHSIG = 1
KILL_GRACE_SECONDS = 3.0
PACK_EXCLUDES = (".git", "observability")
# gzip level 1: a third of level 6's CPU for ~25% more bytes (measured on a Mastra output's
# node_modules); the artifact crosses the network once per build and once per deploy, inside a region.
PACK_LEVEL = 1
CACHE_DIR = ".caches"  # under the build root: one directory per project




def _die_with_parent() -> None:
    # The phase's first process dies with the worker; the reaper kills the rest of its group.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def kill_tree(pgid: int) -> None:
    """SIGTERM the group and every descendant (even ones that left the group), then SIGKILL."""
    import psutil  # local-only dependency, imported where it is needed

    victims: list[psutil.Process] = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(proc.pid) == pgid:
                victims.append(proc)
                victims.extend(proc.children(recursive=True))
        except (ProcessLookupError, psutil.Error, OSError):
            continue
    for proc in victims:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(victims, timeout=KILL_GRACE_SECONDS)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            pass


class _Hashed:
    """A binary file that hashes (sha256) what is written to it."""

    def __init__(self, f):
        self.f, self.digest = f, hashlib.sha256()

    def write(self, data) -> int:
        self.digest.update(data)
        return self.f.write(data)

    def flush(self) -> None:
        self.f.flush()


class LocalBuildRunner:
    name = "local"
    fetches_remote_sources = False  # the worker fetches every source into the workspace
    _running: set[int] = set()  # process groups of the phases running in this process
    _running_lock = threading.Lock()
    _stopping = threading.Event()  # set once by kill_running: no phase starts after it

    @classmethod
    def kill_running(cls) -> None:
        """On worker shutdown: no build process outlives its worker (the reaper re-queues the builds)."""
        with cls._running_lock:
            cls._stopping.set()
            groups = list(cls._running)
        for pgid in groups:
            kill_tree(pgid)

    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = Path(settings.build_root)
        self.node_cache = Path(settings.node_cache or self.root / ".node")

    def _pgid_file(self, build_id: str) -> Path:
        return self.root / build_id / "pgid"

    def run(self, job: BuildJob, log: LogLine, cancel: threading.Event) -> Outcome:
        deadline = time.monotonic() + self.settings.build_timeout_seconds
        preparing = steps.mark()
        try:
            plan = make_plan(job.source_dir, job.build)
        except PlanError as e:
            return Outcome(BuildStatus.FAILED, reason=str(e))
        log(describe(plan))
        try:
            box = sandbox.for_settings(self.settings)
        except sandbox.SandboxError as e:
            return Outcome(BuildStatus.FAILED, reason=str(e))
        try:
            bins = package_managers.toolchain_path(self.node_cache, plan.node_major, plan.manager)
            node_bin = bins[-1]
            # Cached per lockfile: after the first build this only hashes three small files.
            packages = injection.ensure_packages(self.node_cache, node_bin) if plan.mastra else None
        except NodeToolchainError as e:
            log(str(e))
            return Outcome(BuildStatus.FAILED, reason="the build toolchain could not be installed")
        output = (job.source_dir / plan.output_dir).resolve()
        stamp_file = job.workspace / "stamp.json"
        stamp_file.write_text(json.dumps(job.stamp))
        cache = self.project_cache(job.project_id)
        env = self._env(job, bins, box, {**plan.manager.cache_env(str(cache))})
        wrap = self._sandboxed(job, box, stamp_file, cache, log) if box is not None else None
        inject = [*injection.inject_command(node_bin, job.source_dir / plan.app_dir, output, stamp_file,
                                            packages=packages), "--manifest-extra", json.dumps(plan.manifest_extra)]
        steps.since(job.build_id, "prepare", preparing)
        for phase in [*plan.phases, Phase("inject", tuple(inject))]:
            if phase.note:
                log(f"{phase.note}: {phase.argv[-1]}")
            log(f"==> {phase.name}{'' if phase.cwd == '.' else f' (in {phase.cwd})'}: {shlex.join(phase.argv)}")
            with steps.step(job.build_id, phase.name):
                result = self._exec(job, phase, env, log, cancel, deadline, wrap)
            if result is not None:
                return self._explained(result, phase, plan)
        output = (job.source_dir / plan.output_dir).resolve()  # again: the build may have made it a link
        if not output.is_dir() or not output.is_relative_to(job.source_dir.resolve()):
            return Outcome(BuildStatus.FAILED, reason=f"the output directory {plan.output_dir!r} is not inside the project")
        return self._pack(job, output, log)

    def project_cache(self, project_id: str) -> Path:
        """The package manager's store/cache of one project, kept between its builds (never shared
        between projects: a shared writable cache would let one tenant poison another's installs)."""
        cache = self.root / CACHE_DIR / project_id
        cache.mkdir(parents=True, exist_ok=True, mode=0o700)
        return cache

    @staticmethod
    def _explained(result: Outcome, phase: Phase, plan) -> Outcome:
        """A frozen install that fails names the lockfile: the usual cause is one out of date."""
        if result.status != BuildStatus.FAILED or phase.name != "install" or phase.note or not plan.manager.lockfile:
            return result
        lockfile = str(PurePosixPath(plan.install_dir) / plan.manager.lockfile)
        return Outcome(BuildStatus.FAILED, reason=(
            f"{result.reason}: the install is frozen to {lockfile}; if package.json changed, "
            f"update {lockfile} with {plan.manager.name} install and commit it"))

    def _sandboxed(self, job: BuildJob, box: sandbox.Sandbox, stamp_file: Path, cache: Path, log: LogLine):
        """The workspace's source and home and the project's cache become the tenant user's; the
        toolchain, the injection and the stamp are bound read-only. Returns (argv, cwd) -> sandbox.Launch."""
        home = job.workspace / "home"
        home.mkdir(exist_ok=True)
        box.give(job.source_dir, home, cache)
        os.chmod(stamp_file, 0o644)
        box.give(self.node_cache)  # read-only inside
        ro = [self.node_cache.resolve(), injection.INJECT_SCRIPT.parent.resolve(), stamp_file]
        rw = [job.source_dir, home, cache.resolve()]
        log(f"sandbox: running as {box.user} in bubblewrap (workspace and this project's cache only, "
            "no control-plane ports)")
        return lambda argv, cwd: box.wrap(argv, cwd, rw, ro)

    @classmethod
    def _abandon_if_stopping(cls) -> None:
        # The worker is exiting: the build is left as it is, for the reaper to re-queue (recording
        # "failed" now would lose a build that Ctrl-C merely interrupted). os._exit ends this thread.
        if cls._stopping.is_set():
            threading.Event().wait()

    def _env(self, job: BuildJob, bins: list[Path], box: sandbox.Sandbox | None,
             caches: dict[str, str]) -> dict[str, str]:
        # A clean environment: the machine's locale, proxies and CA bundles, the project's variables
        # and what the platform sets; never the control plane's settings, credentials or SSH agent.
        # Sandboxed, HOME is the build's own; the package manager's cache is the project's.
        home = str(job.workspace / "home") if box is not None else os.environ.get("HOME", "/")
        return sandbox.clean_env({
            **job.env, **caches,
            "PATH": os.pathsep.join([*map(str, bins), sandbox.tool_path(box)]),
            # The package manager is on PATH at the exact version: corepack must not step in.
            "COREPACK_ENABLE_STRICT": "0", "COREPACK_ENABLE_AUTO_PIN": "0",
            "CI": "1", "MASTRA_TELEMETRY_DISABLED": "1", "npm_config_update_notifier": "false",
            "npm_config_fund": "false", "npm_config_audit": "false",
            "MASTRA_ADMIN_BUILD_ID": job.build_id,
        }, home)

    def _exec(self, job: BuildJob, phase: Phase, env: dict[str, str], log: LogLine,
              cancel: threading.Event, deadline: float, wrap=None) -> Outcome | None:
        argv, launch = list(phase.argv), None
        if wrap is not None:
            found = shutil.which(argv[0], path=env["PATH"])
            if not found:
                return Outcome(BuildStatus.FAILED, reason=f"{phase.name}: command {phase.argv[0]!r} not found")
            launch = wrap([found, *argv[1:]], job.source_dir / phase.cwd)
            argv = launch.argv

        def prepare() -> None:
            _die_with_parent()
            if launch is not None:
                launch.preexec()

        with self._running_lock:  # a phase either starts before kill_running's snapshot or never
            stopping = self._stopping.is_set()
            try:
                proc = None if stopping else subprocess.Popen(
                    argv, cwd=job.source_dir / phase.cwd, env=env, stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                    preexec_fn=prepare,
                )
            except FileNotFoundError:
                return Outcome(BuildStatus.FAILED, reason=f"{phase.name}: command {phase.argv[0]!r} not found")
            except (OSError, subprocess.SubprocessError) as e:
                return Outcome(BuildStatus.FAILED, reason=f"{phase.name}: the sandbox could not start: {e}")
            finally:
                if launch is not None:
                    launch.close()
            if proc is not None:
                self._running.add(proc.pid)
        if proc is None:
            self._abandon_if_stopping()
        pgid_file = self._pgid_file(job.build_id)
        pgid_file.write_text(str(proc.pid))

        def pump() -> None:
            assert proc.stdout is not None
            for raw in proc.stdout:
                log(raw.decode("utf-8", "replace"))

        def reap() -> None:
            proc.wait()  # a blocking waitpid: `exited` is set the moment the phase exits
            exited.set()

        exited = threading.Event()
        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        threading.Thread(target=reap, daemon=True, name=f"reap-{proc.pid}").start()
        stopped_for = None
        # Popen.wait(timeout) polls (sleeps of up to 50 ms); the event wakes at once, and every
        # 0.2 s lets a cancel or the deadline be seen.
        while not exited.wait(0.2):
            if cancel.is_set():
                stopped_for = "cancelled"
            elif time.monotonic() > deadline:
                stopped_for = "timeout"
            if stopped_for:
                kill_tree(proc.pid)
                proc.wait()
                break
        reader.join(timeout=5)
        with self._running_lock:
            self._running.discard(proc.pid)
        self._abandon_if_stopping()  # killed by the shutdown: not a failure of the build
        pgid_file.unlink(missing_ok=True)
        if stopped_for == "cancelled":
            return Outcome(BuildStatus.CANCELLED, reason="cancelled")
        if stopped_for == "timeout":
            return Outcome(BuildStatus.FAILED,
                           reason=f"timed out after {self.settings.build_timeout_seconds} s in {phase.name}")
        if proc.returncode != 0:
            return Outcome(BuildStatus.FAILED, reason=f"{phase.name} failed with exit code {proc.returncode}")
        return None

    def _pack(self, job: BuildJob, output: Path, log: LogLine) -> Outcome:
        log(f"==> pack: {output.relative_to(job.source_dir.resolve()) if output != job.source_dir.resolve() else '.'}")
        tarball = job.workspace / "artifact.tgz"
        packing = steps.mark()
        with open(tarball, "wb") as f:
            out = _Hashed(f)  # hashed as it is written: no second read of the artifact
            with tarfile.open(fileobj=out, mode="w:gz", compresslevel=PACK_LEVEL) as tar:
                for entry in sorted(output.iterdir()):
                    if entry.name not in PACK_EXCLUDES:
                        tar.add(entry, arcname=entry.name)
        digest = out.digest
        size = tarball.stat().st_size
        node = injection.manifest_node_major(output)
        steps.since(job.build_id, "pack", packing)
        log(f"packed {size} bytes; uploading")
        with steps.step(job.build_id, "upload"), open(tarball, "rb") as body:  # one PUT (up to 5 GB)
            aws.client("s3").put_object(
                Bucket=job.artifact_bucket, Key=job.artifact_key, Body=body, ContentType="application/gzip",
                Metadata={"sha256": digest.hexdigest(), "build-id": job.build_id,
                          **({"node-major": str(node)} if node else {})},
            )
        log(f"artifact s3://{job.artifact_bucket}/{job.artifact_key} {size} bytes sha256 {digest.hexdigest()}")
        return Outcome(BuildStatus.SUCCEEDED, artifact_key=job.artifact_key, artifact_sha256=digest.hexdigest(),
                       artifact_bytes=size, node_major=node)

    def check(self, build: Build) -> Check:
        # A local build lives only as long as its worker, which renews the lease: expired means lost.
        return Check("lost")

    def cancel(self, build: Build) -> None:
        """The worker holding the build sees the cancel at its next heartbeat and kills the tree."""

    def stop(self, build: Build) -> None:
        try:
            pgid = int(self._pgid_file(build.build_id).read_text())
        except (FileNotFoundError, ValueError):
            return
        kill_tree(pgid)
        self._pgid_file(build.build_id).unlink(missing_ok=True)
