"""Per-build figures and the releases of a deployment (the builds that served it, newest first).

A build's figures come from the per-build rollup (release_rollup_hourly): every span is stamped with
its build, so a build's figures are those of every run it served, across all its serving windows
(or, given intervals, of the runs that started inside them: see observed.py).

  runs            root `agent_run` / `workflow_run` spans
  errorRate       runs whose root span ended in error / runs (errorSpans: other failed spans, counted)
  toolErrorRate   failed `tool_call` spans / tool calls: a tool failure the agent may have recovered from
  p50/p95/p99     run duration, merged t-digest states (never averages of averages)
  tokensPerRun    model_generation tokens / runs
  costPerRunUsd   priced tokens / runs; null when any tokens are of a model without a price (listed in
                  unpricedModels): an unknown price is never counted as 0
  models          the model mix: calls, share of calls, tokens and cost per model

A build with zero runs has figures (zeros, rates and per-run values null), not an error. ClickHouse
down raises ClickHouseUnavailable (503 on the API); a guard treats it as "data missing".

Serving windows come from the deployment's succeeded deploys: a deploy switches the route at its
`healthyAt` (the worker switches right after the health check), a stop at its `finishedAt`; a window
lasts until the next switch. Restarts of the same build continue its window.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.analytics import queries, release_figures as rollup
from chalicelib.analytics.writer import Writer, get_writer
from chalicelib.db import deploys as deploy_store
from chalicelib.db import deployments as deployment_store
from chalicelib.db.lifecycle import find_many
from chalicelib.db import keys
from chalicelib.db.models import Build, Deploy, Deployment
from chalicelib.db.statuses import DeployStatus
from chalicelib.errors import NotFound
from chalicelib.services.observability.queries import Costs

DEPLOY_SCAN = 500  # deploys read per deployment, newest first: the windows of the last releases


@dataclass(frozen=True)
class ModelShare:
    model: str
    calls: int
    share: float  # of the build's model calls
    total_tokens: int
    cost_usd: float | None  # None: the model has no price


@dataclass(frozen=True)
class Figures:
    build_id: str
    runs: int = 0
    run_errors: int = 0
    error_rate: float | None = None
    error_spans: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    tool_error_rate: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    generations: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    tokens_per_run: float | None = None
    cost_usd: float | None = 0.0
    cost_per_run_usd: float | None = None
    unpriced_models: tuple[str, ...] = ()
    models: tuple[ModelShare, ...] = ()
    last_span_at: datetime | None = None  # the newest span end seen: how far ingest has got for the build
    latency_sample: tuple[float, ...] = field(default=(), repr=False)  # sorted reservoir of run durations


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime | None  # None: still serving
    trigger: str  # build | redeploy | rollback | restart | ...


@dataclass(frozen=True)
class Release:
    build_id: str
    commit: str | None
    current: bool
    windows: tuple[Window, ...]  # newest first
    figures: Figures


def _rate(hits: int, n: int) -> float | None:
    return hits / n if n else None


def _finite(v: float) -> float | None:
    return None if math.isnan(v) or math.isinf(v) else v


def figures(writer: Writer, deployment: Deployment, build_ids: list[str],
            within: dict[str, list[tuple[datetime, datetime]]] | None = None) -> dict[str, Figures]:
    """Figures of these builds of the deployment (a build with no data gets zero figures).
    `within`: per build, the [start, end) intervals whose runs count; None: all of them."""
    ids = list(dict.fromkeys(build_ids))
    scope = (deployment.team_id, deployment.project_id, deployment.deployment_id, ids)
    model_rows, latency = rollup.build_rows(writer, *scope, within)
    prices = queries.prices_for(writer, deployment.team_id) if any(r.generations for r in model_rows) else None
    out = {}
    for build_id in ids:
        rows = [r for r in model_rows if r.build_id == build_id]
        out[build_id] = _figures(build_id, rows, latency.get(build_id), prices)
    return out


def _figures(build_id: str, rows: list[rollup.ModelRow], latency: rollup.LatencyRow | None,
             prices: queries.Prices | None) -> Figures:
    total = {name: sum(getattr(r, name) for r in rows) for name in (
        "runs", "run_errors", "error_spans", "tool_calls", "tool_errors", "generations", "input_tokens",
        "output_tokens", "total_tokens")}
    runs = total["runs"]
    costs = Costs(prices) if prices else None
    models = []
    for r in rows:
        if not r.generations:
            continue
        cost = prices.cost(r.model, r.input_tokens, r.output_tokens) if prices else None
        costs.add(r.model, r.input_tokens, r.output_tokens, r.total_tokens)
        models.append(ModelShare(r.model or "(unknown)", r.generations, r.generations / total["generations"],
                                 r.total_tokens, cost))
    cost = costs.cost if costs else 0.0
    quantiles = tuple(_finite(q) for q in latency.quantiles) if latency and latency.quantiles and runs \
        else (None, None, None)
    return Figures(
        build_id=build_id, **total,
        error_rate=_rate(total["run_errors"], runs), tool_error_rate=_rate(total["tool_errors"], total["tool_calls"]),
        p50_ms=quantiles[0], p95_ms=quantiles[1], p99_ms=quantiles[2],
        tokens_per_run=_rate(total["total_tokens"], runs), cost_usd=cost,
        cost_per_run_usd=None if cost is None or not runs else cost / runs,
        unpriced_models=tuple(sorted(costs.unpriced)) if costs else (),
        models=tuple(sorted(models, key=lambda m: (-m.calls, m.model))),
        last_span_at=latency.last_end if latency else None,
        latency_sample=tuple(latency.sample) if latency and runs else ())


# --- serving windows ----------------------------------------------------------------------------


def _switches(deployment_id: str) -> list[tuple[datetime, str | None, str]]:
    """(when, build served from then on or None when stopped, trigger), oldest first."""
    deploys: list[Deploy] = []
    cursor = None
    while len(deploys) < DEPLOY_SCAN:
        page = deploy_store.list_for_deployment(deployment_id, min(100, DEPLOY_SCAN - len(deploys)), cursor)
        deploys += page.items
        cursor = page.next_cursor
        if not cursor:
            break
    out = []
    for d in deploys:
        if d.status != DeployStatus.SUCCEEDED:
            continue
        if d.action == "stop":
            when, build = d.finished_at, None
        else:
            when, build = d.healthy_at or d.finished_at, d.build_id
        if when is not None:
            out.append((when, build, d.trigger))
    return sorted(out, key=lambda s: s[0])


def windows(deployment_id: str) -> list[tuple[str, Window]]:
    """(build id, window) per serving window, oldest first; a restart of the serving build continues it."""
    switches = _switches(deployment_id)
    out: list[tuple[str, Window]] = []
    for i, (when, build, trigger) in enumerate(switches):
        end = switches[i + 1][0] if i + 1 < len(switches) else None
        if build is None:
            continue
        if out and out[-1][0] == build and out[-1][1].end == when:
            out[-1] = (build, Window(out[-1][1].start, end, out[-1][1].trigger))
        else:
            out.append((build, Window(when, end, trigger)))
    return out


def load_deployment(deployment_id: str) -> Deployment:
    deployment = deployment_store.find(deployment_id)
    if deployment is None:
        raise NotFound("No such deployment")
    return deployment


def releases(deployment_id: str, writer: Writer | None = None) -> list[Release]:
    """The builds that served the deployment, newest serving window first, with their figures."""
    return releases_of(load_deployment(deployment_id), writer)


def releases_of(deployment: Deployment, writer: Writer | None = None) -> list[Release]:
    served = windows(deployment.deployment_id)
    by_build: dict[str, list[Window]] = {}
    for build_id, window in reversed(served):
        by_build.setdefault(build_id, []).append(window)
    if not by_build:
        return []
    builds: dict[str, Build] = find_many(Build, keys.build, "build_id", by_build)
    figs = figures(writer or get_writer(), deployment, list(by_build))
    serving = served[-1][0] if served and served[-1][1].end is None else None
    return [Release(build_id=b, commit=getattr(builds.get(b), "commit", None),
                    current=b == serving and b == deployment.current_build_id, windows=tuple(ws), figures=figs[b])
            for b, ws in by_build.items()]
