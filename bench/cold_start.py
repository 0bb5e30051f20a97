"""Cold-start proxy: import time of app.py in a fresh interpreter, against `import boto3` alone.

Each sample is a new interpreter (as a Lambda cold start is) timing only the import itself;
the two kinds of sample alternate so machine noise hits both alike. Prints medians, and as the
last line `ratio_to_boto3 X` (target: at most 2).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "9"))
PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def sample(module: str) -> float:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run([sys.executable, "-c", PROBE.format(module=module)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    sample("app"), sample("boto3")  # warm the page cache and .pyc files first
    app_times, boto_times = [], []
    for _ in range(RUNS):
        app_times.append(sample("app"))
        boto_times.append(sample("boto3"))
    app_median, boto_median = statistics.median(app_times), statistics.median(boto_times)
    print(f"runs {RUNS}")
    print(f"import_app_ms {app_median * 1000:.1f}")
    print(f"import_boto3_ms {boto_median * 1000:.1f}")
    print(f"ratio_to_boto3 {app_median / boto_median:.2f}")


if __name__ == "__main__":
    main()
