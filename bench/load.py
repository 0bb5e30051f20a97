"""Load test of the local stack: locust users (bench/locustfile.py) against its API and WebSocket.

    .venv/bin/python bench/load.py [--users 50] [--seconds 60]      (what `make load` runs)

Starts a fresh local stack on free loopback ports (its own state directory, removed afterwards),
runs locust headless with `users` users for `seconds` seconds against it, stops the stack, and
prints p50/p99 per route and the error rate; last line `load_error_rate X` (failed / all requests).
Traffic goes to 127.0.0.1 only, and the run stops by itself.
"""
from __future__ import annotations

import argparse
import csv
import ipaddress
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.stack import start_stack, stop_stack  # noqa: E402


def loopback_only(url: str) -> str:
    host = urlsplit(url).hostname or ""
    if not ipaddress.ip_address(host).is_loopback:
        raise SystemExit(f"refusing to load {host}: loopback addresses only")
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="ma-load-"))
    source = work / "source"  # a project's local source: outside the stack's state directory
    source.mkdir()
    (source / "package.json").write_text('{"name": "load", "version": "1.0.0"}\n')
    stack = start_stack(work / "home")
    try:
        host = loopback_only(stack.api_url)
        prefix = work / "locust"
        env = {**os.environ, "MA_LOAD_KEY": stack.owner_key, "MA_LOAD_SOURCE": str(source)}
        subprocess.run([sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                        "--users", str(args.users), "--spawn-rate", str(max(1, args.users // 5)),
                        "--run-time", f"{args.seconds}s", "--stop-timeout", "20", "--host", host,
                        "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"],
                       env=env, check=False, timeout=args.seconds + 180, stdout=subprocess.DEVNULL)
        rows = list(csv.DictReader(open(f"{prefix}_stats.csv")))
        failure_rows = list(csv.DictReader(open(f"{prefix}_failures.csv")))
    finally:
        stop_stack(stack)
    total = next(r for r in rows if r["Name"] == "Aggregated")
    print(f"{args.users} users for {args.seconds} s against {host} (p50/p99 in ms)")
    print(f"  {'route':<40} {'requests':>8} {'failed':>7} {'p50':>6} {'p99':>6}")
    for r in sorted((r for r in rows if r["Name"] != "Aggregated"), key=lambda r: r["Name"]):
        print(f"  {r['Name']:<40} {r['Request Count']:>8} {r['Failure Count']:>7} "
              f"{r['50%']:>6} {r['99%']:>6}")
    requests_, failures = int(total["Request Count"]), int(total["Failure Count"])
    print(f"  {'all':<40} {requests_:>8} {failures:>7} {total['50%']:>6} {total['99%']:>6}")
    if failures:
        for r in failure_rows[:5]:
            print(f"  failure: {r.get('Method')} {r.get('Name')}: {r.get('Error')} x{r.get('Occurrences')}")
    if failures:
        print(f"  the stack's logs are kept in {work / 'home'}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load_error_rate {failures / max(requests_, 1):.4f}")
    return 0 if requests_ and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
