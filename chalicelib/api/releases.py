"""Releases of a deployment: each build's figures, and two builds compared."""
from __future__ import annotations

from dataclasses import asdict

from chalice import Blueprint

from chalicelib.api.routing import Call, route
from chalicelib.models import releases as m
from chalicelib.services.releases import api as releases
from chalicelib.services.releases.figures import Figures

bp = Blueprint(__name__)


def _figures(f: Figures) -> m.FiguresOut:
    fields = asdict(f)
    fields.pop("latency_sample")
    for q in ("p50", "p95", "p99"):
        fields[f"{q}_latency_ms"] = fields.pop(f"{q}_ms")
    return m.FiguresOut(**fields)


@route(bp, "GET", "/deployments/{deploymentId}/releases", permission="deployment:read", response=m.ReleasesOut)
def list_releases(call: Call, deploymentId: str):
    """The builds that served a deployment, newest first, with serving windows, runs, errors, latency and cost."""
    items = [m.ReleaseOut(build_id=r.build_id, commit=r.commit, current=r.current,
                          windows=[m.WindowOut(**asdict(w)) for w in r.windows], figures=_figures(r.figures))
             for r in releases.list_releases(call.access, deploymentId)]
    return m.ReleasesOut(deployment_id=deploymentId, items=items)


@route(bp, "GET", "/deployments/{deploymentId}/releases/compare", permission="deployment:read",
       response=m.ComparisonOut, query=m.CompareQuery, errors=(409,))
def compare_releases(call: Call, deploymentId: str):
    """Compare two builds (default: the current one against the one it replaced), with significance per metric;
    `from`/`to`: head's runs in that window against base's last 24 hours of serving."""
    q = call.query
    c = releases.compare(call.access, deploymentId, q.base, q.head, q.from_, q.to)
    return m.ComparisonOut(deployment_id=c.deployment_id, base=_figures(c.base), head=_figures(c.head),
                           metrics=[m.MetricChangeOut(**asdict(x)) for x in c.metrics],
                           base_windows=_intervals(c.base_windows), head_windows=_intervals(c.head_windows))


def _intervals(intervals) -> list[m.IntervalOut] | None:
    return None if intervals is None else [m.IntervalOut(start=i.start, end=i.end) for i in intervals]
