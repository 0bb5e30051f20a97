"""Pure presentation helpers: durations, money, sparklines, span trees, .env parsing."""
from __future__ import annotations

import re
import shlex
from datetime import datetime, timedelta, timezone

SPARKS = "▁▂▃▄▅▆▇█"
PHASE = re.compile(r"==> ([\w.-]+):")
SINCE = re.compile(r"^(\d+)([mhd])$")


def sparkline(values: list[float | int | None]) -> str:
    nums = [v or 0 for v in values]
    if not nums:
        return ""
    top = max(nums)
    if top <= 0:
        return SPARKS[0] * len(nums)
    return "".join(SPARKS[min(len(SPARKS) - 1, int(v / top * (len(SPARKS) - 1) + 0.5))] for v in nums)


def duration(ms: float | None) -> str:
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f} s"
    return f"{int(ms // 60_000)}m{int(ms % 60_000 / 1000):02d}s"


def money(usd: float | None) -> str:
    return "unpriced" if usd is None else f"${usd:.6f}".rstrip("0").rstrip(".") if usd else "$0"


def tokens(node: dict) -> str:
    total = node.get("totalTokens")
    if not total:
        return ""
    return f"{total} tok ({node.get('inputTokens') or 0} in / {node.get('outputTokens') or 0} out)"


def span_label(node: dict) -> str:
    parts = [f"{node['name']} [{node['spanType']}]", duration(node.get("durationMs"))]
    if node.get("model"):
        parts.append(node["model"])
    if tok := tokens(node):
        parts.append(tok)
    if node.get("totalTokens"):
        parts.append(money(node.get("costUsd")))
    if node.get("status") not in (None, "ok"):
        parts.append(f"{node['status']}: {node.get('errorMessage') or ''}".rstrip(": "))
    return " · ".join(parts)


def tree_lines(spans: list[dict], prefix: str = "") -> list[str]:
    """The span tree as indented text, one span a line."""
    out = []
    for i, node in enumerate(spans):
        last = i == len(spans) - 1
        out.append(f"{prefix}{'└─ ' if last else '├─ '}{span_label(node)}")
        out += tree_lines(node.get("children", []), prefix + ("   " if last else "│  "))
    return out


def phase_of(line: str) -> str | None:
    """The build phase a log line starts (`… ==> install: npm ci`), if it starts one."""
    m = PHASE.search(line)
    return m.group(1) if m else None


def since_to_iso(since: str | None, now: datetime | None = None) -> str | None:
    """`30m`, `24h`, `7d` (or an ISO-8601 time, passed through) → the `from` query parameter."""
    if since is None:
        return None
    m = SINCE.match(since)
    if not m:
        return since
    amount, unit = int(m.group(1)), m.group(2)
    delta = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]
    return ((now or datetime.now(timezone.utc)) - delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_env(text: str) -> dict[str, str]:
    """`NAME=value` lines of a .env file: comments, blank lines and `export ` skipped, quotes removed."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        name, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"not NAME=value: {raw!r}")
        value = value.strip()
        if value[:1] in ("'", '"'):
            value = shlex.split(value)[0] if value else ""
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[name.strip()] = value
    return values
