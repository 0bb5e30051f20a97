"""The sandbox of tenant processes on the local runners: an unprivileged user inside bubblewrap.

Every build phase and every local server runs as `MA_SANDBOX_USER` (a system user, created by the
supervisor when it runs as root), switched to with `setpriv`, inside `bwrap`: read-only /usr (and
the /bin, /lib, /lib64, /sbin links to it) and the few files of /etc name resolution and TLS need,
the directories the runner binds (the workspace read-write; the Node toolchain read-only), a private
/tmp, a private /proc in its own PID namespace (no view of other processes), no other environment
than the one the runner builds (`clean_env`). The launching process, still root, stages the binds
in a private mount namespace (`Launch.preexec`), so the tenant user needs no access to the paths
above them ($MA_HOME stays 0700). One iptables rule per
stack (`open_network_guard`) rejects the user's new loopback connections: the control plane's ports
are out of reach, replies to the router still flow, the package registry stays reachable.

`MA_SANDBOX`: auto (sandbox when the machine allows it, else run unsandboxed: the supervisor says so
loudly), off, required (the supervisor refuses to start without it, a runner fails its work).
Standard library only.
"""
from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# /etc: only what DNS, users and TLS need (never /etc/shadow, ssh keys, the machine's config).
ETC_FILES = ("/etc/ssl", "/etc/ca-certificates", "/etc/resolv.conf", "/etc/hosts", "/etc/passwd",
             "/etc/group", "/etc/nsswitch.conf", "/etc/localtime")
# The machine's environment a tenant process may see: locale, time zone, proxies, CA bundles.
ENV_KEEP = ("LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
            "http_proxy", "https_proxy", "no_proxy", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR")
SIGNALS = "TERM,INT,HUP"
STAGE = "/mnt"  # covered by a tmpfs in the launching process's private mount namespace only
CLONE_NEWNS, MS_BIND, MS_REC, MS_PRIVATE, MS_NOSUID, MS_NODEV = 0x20000, 0x1000, 0x4000, 1 << 18, 0x2, 0x4
RULE_TAG = "mastra-admin-sandbox"


class SandboxError(RuntimeError):
    """The sandbox is required but cannot be had, or could not be set up."""


@dataclass(frozen=True)
class Sandbox:
    user: str
    uid: int
    gid: int
    bwrap: str
    setpriv: str
    env_tool: str

    def give(self, *paths: Path) -> None:
        """Make `paths` (whole trees) the tenant user's: what a build or server writes, and the
        toolchain it reads (bound read-only; the modes stay the operator's 0700/0600, and the tenant
        user has no process outside a sandbox)."""
        for top in paths:
            for path in [top, *_walk(top)]:
                try:
                    st = os.lstat(path)
                    if (st.st_uid, st.st_gid) != (self.uid, self.gid):
                        os.lchown(path, self.uid, self.gid)
                except FileNotFoundError:
                    continue

    def wrap(self, argv: list[str], cwd: Path, rw: list[Path], ro: list[Path]) -> "Launch":
        """`argv` run as the tenant user inside bwrap with `rw` and `ro` bound at their own paths.
        Start it with `Popen(launch.argv, preexec_fn=launch.preexec)`, then `launch.close()`.

        The tenant user cannot reach those paths itself ($MA_HOME is 0700), so the launching
        process, still root, binds them in a private mount namespace under a fresh tmpfs at STAGE
        (`preexec`), where bwrap, already the tenant user, picks them up.
        Outside the sandbox SIGTERM/INT/HUP are ignored (bwrap would die of them and SIGKILL the
        sandbox); inside, `env --default-signal` gives the command its default handling back, so a
        signal to the process group reaches the server and it stops cleanly."""
        stage = STAGE if os.path.isdir(STAGE) else "/tmp"
        staged: list[tuple[str, str, bool]] = []
        binds: list[str] = []
        for kind, paths in (("--ro-bind", ro), ("--bind", rw)):
            for path in paths:
                target = f"{stage}/{len(staged)}"
                staged.append((str(path), target, os.path.isdir(path)))
                binds += [kind, target, str(path)]
        etc: list[str] = []
        for path in ETC_FILES:
            etc += ["--ro-bind-try", path, path]
        wrapped = [
            self.env_tool, f"--ignore-signal={SIGNALS}",
            self.setpriv, f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups",
            "--pdeathsig=KILL", "--",
            self.bwrap, "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--hostname", "sandbox",
            "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            *etc, "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
            *binds, "--chdir", str(cwd),
            "--", "/usr/bin/env", f"--default-signal={SIGNALS}", *argv,
        ]
        return Launch(wrapped, stage, staged)


@dataclass
class Launch:
    argv: list[str]
    stage: str
    staged: list[tuple[str, str, bool]]  # (source, where it is staged, is a directory)

    def preexec(self) -> None:
        """In the child, before exec (still root): a private mount namespace with the sources
        bound under a tmpfs at the stage. Only async-signal-tolerant work: syscalls through libc."""
        libc = ctypes.CDLL(None, use_errno=True)

        def check(result: int, what: str) -> None:
            if result != 0:
                raise OSError(ctypes.get_errno(), f"sandbox staging: {what}")

        check(libc.unshare(CLONE_NEWNS), "unshare")
        check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "private /")
        # Opened in this namespace before the tmpfs covers the stage (a source may lie under it).
        fds = [os.open(source, os.O_PATH | os.O_CLOEXEC) for source, _, _ in self.staged]
        check(libc.mount(b"tmpfs", self.stage.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=0755"), "tmpfs")
        for fd, (_, target, is_dir) in zip(fds, self.staged):
            if is_dir:
                os.mkdir(target, 0o755)
            else:
                os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
            check(libc.mount(f"/proc/self/fd/{fd}".encode(), target.encode(), None, MS_BIND | MS_REC, None), target)
            os.close(fd)

    def close(self) -> None:
        """Nothing is held in the launching process (kept for callers' symmetry)."""


def clean_env(extra: dict[str, str], home: str) -> dict[str, str]:
    """The environment of a tenant process: the machine's locale, proxies and CA bundles, then
    `extra`; never the control plane's settings, credentials or SSH agent."""
    keep = {k: v for k, v in os.environ.items() if k in ENV_KEEP}
    return {"HOME": home, "USER": "tenant", "LANG": "C.UTF-8", **keep, **extra}


def tool_path(box: "Sandbox | None") -> str:
    """PATH after the Node toolchain: inside the sandbox only /usr is there; unsandboxed, the
    operator's own PATH (npm may come from anywhere on a developer's machine)."""
    return "/usr/local/bin:/usr/bin:/bin" if box is not None else os.environ.get("PATH", "/usr/bin:/bin")


def _walk(top: Path):
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            yield os.path.join(root, name)


def _tools() -> tuple[str | None, str | None, str | None]:
    return shutil.which("bwrap"), shutil.which("setpriv"), shutil.which("env")


def find(user: str) -> tuple[Sandbox | None, str]:
    """The sandbox this machine offers (root, bwrap, setpriv, the tenant user), or (None, why not)."""
    if os.geteuid() != 0:
        return None, "not running as root (a separate user needs root to switch to)"
    bwrap, setpriv, env_tool = _tools()
    if not (bwrap and setpriv and env_tool):
        return None, "bwrap or setpriv is not installed (apt-get install bubblewrap)"
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None, f"the user {user!r} does not exist"
    if entry.pw_uid == 0:
        return None, f"the user {user!r} is root"
    return Sandbox(user, entry.pw_uid, entry.pw_gid, bwrap, setpriv, env_tool), ""


_cached: dict[tuple[str, str], Sandbox | None] = {}


def for_settings(settings) -> Sandbox | None:
    """What a runner uses: None when MA_SANDBOX=off or (auto) the machine offers none; raises
    SandboxError when it is required and cannot be had."""
    mode = getattr(settings, "sandbox", "auto")
    if mode == "off":
        return None
    key = (mode, settings.sandbox_user)
    if key not in _cached:
        found, why = find(settings.sandbox_user)
        if found is None and mode == "required":
            raise SandboxError(f"MA_SANDBOX=required but the sandbox cannot be had: {why}")
        _cached[key] = found
    return _cached[key]


# --- machine state: the user and the network rule (the supervisor, as root) ---------------------


def ensure_user(user: str) -> None:
    """A system user without a home or shell; nothing when it exists."""
    try:
        pwd.getpwnam(user)
        return
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    proc = subprocess.run([useradd, "--system", "--no-create-home", "--home-dir", "/nonexistent",
                           "--shell", "/usr/sbin/nologin", "--user-group", user],
                          capture_output=True, text=True, timeout=30)
    if proc.returncode != 0 and "already exists" not in proc.stderr:
        raise SandboxError(f"useradd {user} failed: {proc.stderr.strip()}")


def _rule(uid: int, tag: str) -> list[str]:
    return ["OUTPUT", "-o", "lo", "-m", "owner", "--uid-owner", str(uid), "-m", "conntrack",
            "--ctstate", "NEW", "-m", "comment", "--comment", tag, "-j", "REJECT"]


# The cloud instance metadata endpoint hands out the host's role credentials: never the tenant's.
METADATA_V4, METADATA_V6 = "169.254.169.254", "fd00:ec2::254"


def _metadata_rule(uid: int, tag: str, address: str) -> list[str]:
    return ["OUTPUT", "-d", address, "-m", "owner", "--uid-owner", str(uid), "-m", "comment", "--comment", tag,
            "-j", "REJECT"]


def _iptables(tool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([tool, "-w", "5", *args], capture_output=True, text=True, timeout=30)


def open_network_guard(uid: int, owner_pid: int) -> str:
    """Reject the tenant user's new loopback connections and any to the instance metadata endpoint
    (IPv4, and IPv6 where ip6tables works).
    One rule per stack, tagged with the supervisor's pid; rules of stacks that died are removed.
    Returns the tag; raises SandboxError when iptables refuses."""
    tool = shutil.which("iptables")
    if not tool:
        raise SandboxError("iptables is not installed (apt-get install iptables)")
    _remove_stale(tool)
    tag = f"{RULE_TAG}:{owner_pid}"
    proc = _iptables(tool, "-A", *_rule(uid, tag))
    if proc.returncode != 0:
        raise SandboxError(f"iptables refused the loopback rule: {proc.stderr.strip()}")
    proc = _iptables(tool, "-A", *_metadata_rule(uid, tag, METADATA_V4))
    if proc.returncode != 0:
        raise SandboxError(f"iptables refused the metadata rule: {proc.stderr.strip()}")
    six = shutil.which("ip6tables")
    if six:
        _remove_stale(six)
        _iptables(six, "-A", *_rule(uid, tag))  # best effort: the stack listens on IPv4
        _iptables(six, "-A", *_metadata_rule(uid, tag, METADATA_V6))
    return tag


def close_network_guard(tag: str) -> None:
    """Remove this stack's rules (every copy)."""
    for name in ("iptables", "ip6tables"):
        tool = shutil.which(name)
        if tool:
            for line in _tagged(tool, lambda t: t == tag):
                _iptables(tool, "-D", *line)


def _tagged(tool: str, match) -> list[list[str]]:
    proc = _iptables(tool, "-S", "OUTPUT")
    found = []
    for line in proc.stdout.splitlines():
        parts = line.split()
        if parts[:2] == ["-A", "OUTPUT"] and "--comment" in parts:
            tag = parts[parts.index("--comment") + 1].strip('"')
            if tag.startswith(RULE_TAG + ":") and match(tag):
                found.append([p.strip('"') for p in parts[1:]])
    return found


def _remove_stale(tool: str) -> None:
    def dead(tag: str) -> bool:
        pid = tag.rsplit(":", 1)[1]
        return not pid.isdigit() or not Path(f"/proc/{pid}").exists()

    for line in _tagged(tool, dead):
        _iptables(tool, "-D", *line)


def self_test(sandbox: Sandbox) -> None:
    """bwrap runs as the tenant user here (user namespaces allowed); raises SandboxError if not."""
    launch = sandbox.wrap(["/usr/bin/true"], Path("/"), [], [Path("/usr/bin/true")])
    try:
        proc = subprocess.run(launch.argv, capture_output=True, text=True, timeout=30,
                              env={"PATH": "/usr/bin:/bin"}, preexec_fn=launch.preexec)
    except (OSError, subprocess.SubprocessError) as e:
        raise SandboxError(f"bwrap does not run: {e}") from e
    finally:
        launch.close()
    if proc.returncode != 0:
        raise SandboxError(f"bwrap does not run as {sandbox.user}: {proc.stderr.strip()[-500:]}")


def setup(mode: str, user: str, owner_pid: int) -> tuple[Sandbox | None, str | None, str]:
    """At stack start: (sandbox, rule tag, "") or (None, None, why not). Raises SandboxError only
    when the mode is required and the sandbox cannot be had."""
    if mode == "off":
        return None, None, "MA_SANDBOX=off"
    try:
        if os.geteuid() != 0:
            raise SandboxError("not running as root (a separate user needs root to switch to)")
        if not all(_tools()):
            raise SandboxError("bwrap or setpriv is not installed (make install-sandbox, as root)")
        ensure_user(user)
        sandbox, why = find(user)
        if sandbox is None:
            raise SandboxError(why)
        self_test(sandbox)
        tag = open_network_guard(sandbox.uid, owner_pid)
        return sandbox, tag, ""
    except SandboxError as e:
        if mode == "required":
            raise
        return None, None, str(e)
