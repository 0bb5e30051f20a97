"""Run the router as a service: `python -m chalicelib.router --host 0.0.0.0 --port 3100`.

Routes come from DynamoDB (settings from the MA_* environment, as everywhere), cached and dropped
when MA_ROUTE_TOPIC_ARN says the deployment changed (router/invalidation.py); `--route
SLUG=HOST:PORT` (repeatable) serves fixed routes instead, without a table. SIGTERM or SIGINT stops
it: it stops accepting, lets requests in flight finish for `--shutdown-timeout` seconds, then exits.
"""
from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from chalicelib.router.proxy import ProxyConfig, Router, new_event_loop
from chalicelib.router.routes import RouteTable, dynamodb_lookup, static_lookup
from chalicelib.settings import get_settings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.router", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3100)
    parser.add_argument("--route", action="append", default=[], metavar="SLUG=HOST:PORT",
                        help="a fixed route (repeatable); without any, routes are read from DynamoDB")
    parser.add_argument("--shutdown-timeout", type=float, default=10.0)
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    settings = get_settings()
    fixed = dict(r.split("=", 1) for r in args.route)
    routes = RouteTable(settings.route_cache_seconds, static_lookup(fixed) if fixed else dynamodb_lookup)
    listener = None
    if not fixed and settings.route_topic_arn:  # the deployment's channel drops its cached route at once
        from chalicelib.router.invalidation import Listener

        listener = await loop_run(lambda: Listener(settings.route_topic_arn, f"mastra-admin-{settings.stage}",
                                                   routes.forget_deployment).start())
    router = Router(routes, ProxyConfig.from_settings(settings), args.host, args.port, args.shutdown_timeout)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await router.start()
    print(f"router ready {router.url}", flush=True)
    try:
        await stopping.wait()
    finally:
        await router.stop()
        if listener is not None:
            await loop_run(listener.stop)


async def loop_run(call):
    return await asyncio.get_running_loop().run_in_executor(None, call)


def main(argv: list[str] | None = None) -> int:
    with asyncio.Runner(loop_factory=new_event_loop) as runner:  # uvloop when installed
        runner.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
