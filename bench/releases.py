"""Release comparison latency over 1,000,000 spans served by 20 builds.

    python bench/releases.py [--lines 1000000] [--builds 20] [--runs 100]

Loads the generated file bench/ingest.py uses (7 days of agent traces) through the ingest insert
into a fresh chDB, the build id of each span set by its hour so that 20 builds each serve a run of
consecutive hours (as releases do), then times what `GET /deployments/{id}/releases/compare` asks
ClickHouse and computes: both builds' figures from the per-build rollup (sums per model, merged
t-digests, the reservoirs of run durations) and the significance tests. The DynamoDB reads of the
route (the deployment, its deploys) are not part of it. Pairs are consecutive builds, chosen at
random. Also times the windowed compare the release guard makes: the head's runs in its first
60 minutes after a switch at :23 past the hour, against the base's runs from its own switch to the
head's (its whole serving window here, under the 24-hour bound), both exact at the edges (whole
hours from the rollup, the partial hours from the raw spans). Prints p50/p95 in milliseconds; the
last line is `compare_p50_ms X` (goal <= 50), the compare over every run of both builds.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

SWITCH_OFFSET = timedelta(minutes=23)  # switches off the hour: the windows' edges come from the raw spans
GUARD_WINDOW = timedelta(minutes=60)  # the guard's default observation window


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--builds", type=int, default=20)
    ap.add_argument("--runs", type=int, default=100)
    args = ap.parse_args()

    from chalicelib.services.releases.compare import comparison
    from chalicelib.services.releases.figures import figures
    from ingest import SCOPE, dataset
    from query import load, pct

    path = dataset(args.lines)
    db = tempfile.mkdtemp(prefix="ma-bench-releases-")
    hours_each = -(-7 * 24 // args.builds)  # 7 days of hours shared by the builds
    build_of = (f"concat('bld_', leftPad(toString(intDiv(toRelativeHourNum(startTime), {hours_each}) % "
                f"{args.builds}), 2, '0'))")
    try:
        client, writer = load(db, path, {"build_id": build_of})
        builds = sorted(r[0] for r in writer.query("SELECT DISTINCT build_id FROM release_rollup_hourly"))
        deployment = SimpleNamespace(team_id=SCOPE.team_id, project_id=SCOPE.project_id,
                                     deployment_id=SCOPE.deployment_id)
        first_hour = {b: t if t.tzinfo else t.replace(tzinfo=timezone.utc) for b, t in writer.query(
            "SELECT build_id, min(hour) FROM release_rollup_hourly GROUP BY build_id")}
        rng = random.Random(3)
        samples: list[float] = []
        windowed: list[float] = []
        runs_per_build, runs_in_window = [], []
        for _ in range(args.runs):
            i = rng.randrange(1, len(builds))
            base, head = builds[i - 1], builds[i]
            t = time.perf_counter()
            figs = figures(writer, deployment, [base, head])
            result = comparison(SCOPE.deployment_id, figs[base], figs[head])
            samples.append((time.perf_counter() - t) * 1000)
            runs_per_build.append(result.head.runs)
            assert result.head.runs > 0 and result.metric("errorRate").head_n == result.head.runs

            switch = first_hour[head] + SWITCH_OFFSET
            base_from = first_hour[base] + SWITCH_OFFSET
            within = {base: [(base_from, switch)], head: [(switch, switch + GUARD_WINDOW)]}
            t = time.perf_counter()
            figs = figures(writer, deployment, [base, head], within)
            result = comparison(SCOPE.deployment_id, figs[base], figs[head])
            windowed.append((time.perf_counter() - t) * 1000)
            runs_in_window.append(result.head.runs)
            assert 0 < result.head.runs < runs_per_build[-1]
        client.close()
    finally:
        shutil.rmtree(db, ignore_errors=True)
    print(f"spans {args.lines}  builds {len(builds)}  runs per build ~{statistics.median(runs_per_build):.0f}  "
          f"compares {len(samples)}  load {os.getloadavg()[0]:.1f}")
    print(f"windowed: head runs in its {GUARD_WINDOW.seconds // 60}-minute window "
          f"~{statistics.median(runs_in_window):.0f}")
    print(f"windowed_compare_p95_ms {pct(windowed, 95):.1f}")
    print(f"windowed_compare_p50_ms {statistics.median(windowed):.1f}")
    print(f"compare_p95_ms {pct(samples, 95):.1f}")
    print(f"compare_p50_ms {statistics.median(samples):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
