"""The local stack: one foreground process that runs the whole control plane with no AWS account.

    python -m local_stack.supervisor        (what `make up` runs)

It starts moto server (a child process whose state persists under $MA_HOME/moto), creates the
resources of infra/resources.yaml there, opens the embedded ClickHouse (chDB) at
$MA_HOME/clickhouse — only this process may open it, so it also serves the API that reads it —
creates the first team and owner key on first start, and serves the Chalice app with Chalice's
own routing. Ctrl-C (or SIGTERM) stops everything cleanly, deployed servers included; the
deployments they served are deployed again (same build) at the next start.
"""
from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from pathlib import Path

from local_stack.config import LocalConfig

ROOT = Path(__file__).resolve().parents[1]


def configure_environment(cfg: LocalConfig) -> None:
    """Settings are read from the environment once; set them before anything imports them."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"]
    os.environ["MA_STAGE"] = "local"
    os.environ["MA_AWS_ENDPOINT_URL"] = cfg.moto_url
    os.environ["MA_CLICKHOUSE_INTERFACE"] = "chdb"
    os.environ["MA_CLICKHOUSE_PATH"] = str(cfg.home / "clickhouse")
    os.environ.setdefault("MA_PUBLIC_DOMAIN", f"localhost:{cfg.router_port}")
    os.environ["MA_WS_MANAGEMENT_URL"] = f"http://127.0.0.1:{cfg.ws_mgmt_port}"
    os.environ["MA_WS_URL"] = f"ws://{cfg.host}:{cfg.ws_port}"  # POST /ws/tickets answers with it
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "mastra-admin")
    os.environ["MA_HOME"] = str(cfg.home)
    from local_stack.provision import ACCOUNT_ID

    os.environ.setdefault(  # infra/resources.yaml's RouteTopic, as the provisioner creates it on moto
        "MA_ROUTE_TOPIC_ARN", f"arn:aws:sns:{os.environ['AWS_DEFAULT_REGION']}:{ACCOUNT_ID}:mastra-admin-local-routes")
    os.environ.setdefault("MA_BUILD_ROOT", str(cfg.home / "builds"))
    os.environ.setdefault("MA_NODE_CACHE", str(cfg.home / "node"))
    os.environ.setdefault("MA_SERVER_ROOT", str(cfg.home / "servers"))


class WorkerKeeper:
    """Keeps the local worker process (the queue consumers) running; restarts it if it dies.

    The reaper runs here, in the supervisor, on its own timer: once at start (recovery of builds a
    previous run left in flight) and every `reaper_interval_seconds` (MA_REAPER_INTERVAL).
    """

    def __init__(self, cfg: LocalConfig, stopping: threading.Event):
        self.cfg = cfg
        self.stopping = stopping
        self.proc = None
        self.log = open(cfg.home / "worker.log", "a")
        self.interval = cfg.reaper_interval_seconds

    def start(self) -> None:
        self._spawn()
        threading.Thread(target=self._watch, daemon=True, name="worker-keeper").start()
        threading.Thread(target=self._reap_forever, daemon=True, name="reaper").start()

    def _spawn(self) -> None:
        from local_stack import processes

        self.proc = processes.start_python_module(
            "local_stack.worker", [], env={**os.environ, "PYTHONPATH": str(ROOT)}, log=self.log)
        processes.wait_for_line(self.proc, "worker ready", timeout=120, echo=self.log)
        (self.cfg.home / "worker.pid").write_text(str(self.proc.pid))

    def _watch(self) -> None:
        while not self.stopping.wait(1.0):
            if self.proc is not None and self.proc.poll() is not None:
                print(f"worker exited ({self.proc.returncode}); restarting", file=sys.stderr, flush=True)
                try:
                    self._spawn()
                except Exception as exc:
                    print(f"worker restart failed: {exc}", file=sys.stderr, flush=True)

    def _reap_forever(self) -> None:
        from chalicelib.workers.shards import fan_out

        while True:
            for kind in ("build-reaper", "deploy-reaper"):  # shards for the worker's shard pump, as in AWS
                try:
                    fan_out(kind)
                except Exception as exc:  # moto restarting: next tick
                    print(f"reaper failed: {exc}", file=sys.stderr, flush=True)
            if self.stopping.wait(self.interval):
                return

    def stop(self) -> None:
        from local_stack import processes

        if self.proc is not None:
            processes.stop(self.proc)
        self.log.close()


def start_gateway(cfg: LocalConfig):
    """The WebSocket API (the same Chalice handlers) and its @connections management API."""
    from app import ws_connect, ws_disconnect, ws_message
    from local_stack.ws_gateway import Gateway

    return Gateway(cfg.host, cfg.ws_port, cfg.ws_mgmt_port, connect=ws_connect, message=ws_message,
                   disconnect=ws_disconnect).start()


def start_ingest_pump(settings):
    """The ingest queue's consumer runs in the supervisor, the one process that may open chDB."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from app import ingest_queue_consumer
    from chalicelib import aws
    from local_stack.dispatcher import QueuePump

    return QueuePump(
        aws.client("sqs"), settings.ingest_queue_name, ingest_queue_consumer, region=settings.region,
        batch_size=10, concurrency=1, timeout_seconds=300,
        on_error=lambda text: print(f"ingest: {text}", file=sys.stderr, flush=True),
    ).start()


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def make_private(home: Path) -> None:
    """State is the operator's alone: umask 077 for this process and its children (moto, the worker,
    the router; what they create under $MA_HOME is 0600/0700), and what an earlier version left
    readable at the top of $MA_HOME and under moto/ is tightened."""
    os.umask(0o077)
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    for path in [*home.iterdir(), *(home / "moto").rglob("*")]:
        if path.is_symlink():
            continue
        os.chmod(path, 0o700 if path.is_dir() else 0o600)


def start_sandbox() -> str | None:
    """Tenant code sandboxed when the machine allows it (MA_SANDBOX): the tenant user and this stack's
    loopback rule are set up here. Returns the rule's tag (removed at stop), or None; says so
    loudly when running unsandboxed. Raises SettingsError when the sandbox is required and missing."""
    from chalicelib.errors import SettingsError
    from chalicelib.runners import sandbox
    from chalicelib.settings import Settings

    settings = Settings.from_env()
    try:
        box, tag, why = sandbox.setup(settings.sandbox, settings.sandbox_user, os.getpid())
    except sandbox.SandboxError as e:
        raise SettingsError(f"MA_SANDBOX=required: {e}") from e
    if box is not None:
        print(f"sandbox: tenant builds and servers run as {box.user} (uid {box.uid}) in bubblewrap; "
              f"their loopback connections are refused", flush=True)
        return tag
    os.environ["MA_SANDBOX"] = "off"  # the worker and the runners: the same decision
    bar = "!" * 100
    for stream in (sys.stdout, sys.stderr):
        print(f"{bar}\n!! WARNING: TENANT CODE IS NOT SANDBOXED ({why}).\n"
              "!! Builds and deployed servers run as this user, with access to this machine's files, "
              "processes and the\n!! control plane's ports and credentials. Run one trusted team per "
              "machine, or run as root with\n!! bubblewrap and iptables installed (make install-sandbox) "
              f"and MA_SANDBOX=auto|required.\n{bar}", file=stream, flush=True)
    return None


def main() -> int:
    from chalicelib.errors import SettingsError

    try:
        cfg = LocalConfig.from_env()
    except SettingsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for name, port in (("API", cfg.api_port), ("moto", cfg.moto_port), ("WS", cfg.ws_port),
                       ("WS_MGMT", cfg.ws_mgmt_port), ("router", cfg.router_port)):
        if not _port_free(cfg.host if name in ("API", "router") else "127.0.0.1", port):
            print(f"error: port {port} for the {name} is in use (set MA_{name.upper()}_PORT)", file=sys.stderr)
            return 2
    make_private(cfg.home)
    configure_environment(cfg)
    try:
        sandbox_tag = start_sandbox()
    except SettingsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    from local_stack import processes

    log = open(cfg.home / "moto.log", "a")
    moto = processes.start_python_module(
        "local_stack.moto_launcher",
        ["--host", "127.0.0.1", "--port", str(cfg.moto_port), "--state-dir", str(cfg.home / "moto")],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, log=log,
    )
    stopping = threading.Event()
    server = None
    keeper = None
    router = None
    ingest_pump = None
    gateway = None
    servers = None

    def shutdown(signum, _frame):
        stopping.set()
        if server is not None:
            threading.Thread(target=server.shutdown, daemon=True).start()
        else:
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    try:
        processes.wait_for_line(moto, "moto ready", timeout=120)
        from local_stack.provision import provision
        from chalicelib.settings import get_settings

        settings = get_settings()
        overrides = {"BuildVisibilityTimeout": cfg.build_visibility_timeout} if cfg.build_visibility_timeout else None
        provision(cfg.moto_url, settings.region, settings.stage, overrides)
        from chalicelib.analytics.client import ping

        ping()  # opens chDB now: this process owns the directory
        from chalicelib.analytics.migrate import migrate

        migrate()  # the explicit local "deploy" step (in AWS: a one-off function, never at Lambda start)
        ingest_pump = start_ingest_pump(settings)  # here, not in the worker: only this process opens chDB
        from local_stack.guard_timer import GuardTimer  # release guard (issue 17): reads chDB, so here too

        GuardTimer(settings.guard_interval_seconds, stopping).start()
        from local_stack.owner_key import bootstrap

        first = bootstrap(cfg.home)  # once per state directory
        from chalicelib import channels
        from local_stack.server_keeper import ServerKeeper
        from local_stack.worker import JsonlSink

        channels.add_sink(JsonlSink.for_stack(cfg))
        servers = ServerKeeper(cfg, settings, stopping)
        recovered = servers.recover()  # before the worker runs deploys
        router_log = open(cfg.home / "router.log", "a")
        router = processes.start_python_module(  # chalicelib/router, as it runs as a service in AWS
            "chalicelib.router", ["--host", cfg.host, "--port", str(cfg.router_port), "--shutdown-timeout", "2"],
            env={**os.environ, "PYTHONPATH": str(ROOT)}, log=router_log)
        processes.wait_for_line(router, "router ready", timeout=60)
        from local_stack.api_server import serve_api

        server = serve_api(cfg.host, cfg.api_port)
        gateway = start_gateway(cfg)
        keeper = WorkerKeeper(cfg, stopping)
        keeper.start()
        servers.start()
        resumed = servers.resume()  # the deployments the last clean stop stopped, through the deploy queue
        from chalicelib.services import health

        report = health.check()
        print(f"mastra-admin is up: API {cfg.api_url}  router http://{{slug}}.localhost:{cfg.router_port}/ "
              f"(state in {cfg.home})", flush=True)
        print(f"servers: {len(recovered['reattached'])} reattached, {len(recovered['stopped'])} marked stopped, "
              f"{len(recovered['strays'])} stray process groups ended, {len(resumed)} deployments redeployed",
              flush=True)
        from local_stack import console_files

        print(f"console: {cfg.api_url}/" if (console_files.DIST / "index.html").is_file()
              else "console: not built (make console)", flush=True)
        print("health: " + ", ".join(f"{k}={v.status}" for k, v in report.components.items()), flush=True)
        if first.token:
            print(f"first team 'default' created; owner API key (shown once, saved to {cfg.home / 'owner-key'}):")
            print(f"  {first.token}", flush=True)
        elif first.notice:
            print(f"warning: {first.notice}", flush=True)
        else:
            print(f"owner API key: {cfg.home / 'owner-key'}", flush=True)
        print(f"try: curl -H \"Authorization: Bearer $(cat {cfg.home / 'owner-key'})\" {cfg.api_url}/teams", flush=True)
        print(f"live: POST {cfg.api_url}/ws/tickets, connect to its url (ws://{cfg.host}:{cfg.ws_port}/?ticket=…) then "
              '{"action":"subscribe","channel":"build:<buildId>"}', flush=True)
        print(f"mastra-admin ready api={cfg.api_url} ws=ws://{cfg.host}:{cfg.ws_port}", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stopping.set()
        if gateway is not None:
            gateway.stop()
        if ingest_pump is not None:
            ingest_pump.stop()
        if keeper is not None:
            keeper.stop()  # first: no deploy starts a server while they stop
        if servers is not None:
            try:
                stopped = servers.stop_all()
                print(f"servers: {len(stopped)} stopped", flush=True)
            except Exception as exc:
                print(f"stopping servers failed: {exc!r}", file=sys.stderr, flush=True)
        if router is not None:
            processes.stop(router)
            router_log.close()
        if server is not None:
            server.server.server_close()
        processes.stop(moto)
        log.close()
        if sandbox_tag:
            from chalicelib.runners import sandbox

            sandbox.close_network_guard(sandbox_tag)
    print("mastra-admin stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
