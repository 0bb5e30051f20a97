"""Cold-start proxy: import time of app.py in a fresh interpreter, against `import boto3` alone.

Each sample is a new interpreter (as a Lambda cold start is) with no bytecode cache (as on Lambda's
read-only package), timing only the import itself; the kinds of sample alternate so machine noise
hits them alike. Every function of the stage imports app.py; the API function also registers the
routes on its first request (`app.routes`), shown as `import_app_with_routes_ms`. Prints medians,
and as the last line `ratio_to_boto3 X` (target: at most 1.5).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "9"))
PROBE = "import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
STATEMENTS = {"app": "import app", "app_with_routes": "import app; app.app.routes", "boto3": "import boto3"}


def sample(statement: str) -> float:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run([sys.executable, "-c", PROBE.format(statement=statement)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    for statement in STATEMENTS.values():  # warm the page cache and the dependencies' .pyc files first
        sample(statement)
    times: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    for _ in range(RUNS):
        for name, statement in STATEMENTS.items():
            times[name].append(sample(statement))
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"runs {RUNS}, load average {os.getloadavg()[0]:.1f}")
    print(f"import_app_with_routes_ms {median['app_with_routes'] * 1000:.1f} "
          f"(ratio {median['app_with_routes'] / median['boto3']:.2f}: the API function's first request)")
    print(f"import_app_ms {median['app'] * 1000:.1f}")
    print(f"import_boto3_ms {median['boto3'] * 1000:.1f}")
    print(f"ratio_to_boto3 {median['app'] / median['boto3']:.2f}")


if __name__ == "__main__":
    main()
