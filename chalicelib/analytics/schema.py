"""ClickHouse schema: tables, rollups and how each JSONL record kind maps onto them.

Applied only by `migrate` (chalicelib/analytics/migrate.py), never at Lambda start.

Idempotency, three layers deep:
  * every insert carries `insert_deduplication_token` (bucket/key/ETag[/chunk]) and every table,
    rollups included, keeps a `non_replicated_deduplication_window`, so a retried insert of the same
    object writes nothing, neither to the raw table nor to the rollups fed by materialized views;
  * raw tables are ReplacingMergeTree on the record's stable identity, so even a record that arrives
    twice in *different* objects collapses (queries read them with FINAL / LIMIT 1 BY);
  * the `ingested_objects` ledger lets a redelivered S3 event skip the object without reading it.

Rollups are AggregatingMergeTree fed by materialized views and hold sums, counts and quantile
states, never averages, so any coarser bucket is exact.
"""
from __future__ import annotations

from dataclasses import dataclass

DEDUP_WINDOW = 10_000  # inserts remembered per table for insert_deduplication_token

_TABLE_SETTINGS = f"SETTINGS non_replicated_deduplication_window = {DEDUP_WINDOW}, index_granularity = 8192"


@dataclass(frozen=True)
class Ttl:
    spans_days: int = 90
    logs_days: int = 30
    metrics_days: int = 90
    scores_days: int = 365
    build_logs_days: int = 30


def _ttl(column: str, days: int) -> str:
    return f"TTL toDateTime({column}) + INTERVAL {int(days)} DAY"


_SCOPE_COLUMNS = """
    team_id LowCardinality(String),
    project_id LowCardinality(String),
    deployment_id LowCardinality(String),
    build_id LowCardinality(String),
    commit String,
    environment LowCardinality(String),
    service_name LowCardinality(String),
    record_id String"""

_LINEAGE_COLUMNS = """
    source_key String CODEC(ZSTD(3)),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_source source_key TYPE bloom_filter(0.01) GRANULARITY 4"""


# Release figures: what counts as a run, and how run latency is kept (see release_rollup_hourly).
RUN_TYPES = ("agent_run", "workflow_run")
_IS_RUN = f"(is_root AND span_type IN {RUN_TYPES!r})"
RUN_QUANTILES = "quantilesTDigest(0.5, 0.95, 0.99)"
RUN_SAMPLE_SIZE = 1000
RUN_SAMPLE = f"groupArraySample({RUN_SAMPLE_SIZE}, 17)"  # fixed seed: the same spans give the same sample


def combined(aggregate: str, combinator: str) -> str:
    """`quantilesTDigest(0.5)`, `Merge` -> `quantilesTDigestMerge(0.5)`."""
    name, params = aggregate.split("(", 1)
    return f"{name}{combinator}({params}"


def release_rollup_select(condition: str = "1") -> str:
    """What release_rollup_hourly_mv feeds per inserted block; also the backfill of spans stored before it."""
    return f"""
SELECT team_id, project_id, deployment_id, build_id,
       if(span_type = 'model_generation', model, '') AS model,
       toStartOfHour(start_time) AS hour,
       countIf({_IS_RUN}) AS runs,
       countIf({_IS_RUN} AND status = 'error') AS run_errors,
       countIf(status = 'error' AND span_type != 'tool_call') AS error_spans,
       countIf(span_type = 'tool_call') AS tool_calls,
       countIf(span_type = 'tool_call' AND status = 'error') AS tool_errors,
       countIf(span_type = 'model_generation') AS generations,
       sumIf(input_tokens, span_type = 'model_generation') AS input_tokens,
       sumIf(output_tokens, span_type = 'model_generation') AS output_tokens,
       sumIf(total_tokens, span_type = 'model_generation') AS total_tokens,
       {combined(RUN_QUANTILES, 'StateIf')}(duration_ms, {_IS_RUN}) AS run_ms,
       {combined(RUN_SAMPLE, 'StateIf')}(duration_ms, {_IS_RUN}) AS run_ms_sample,
       max(end_time) AS last_end
FROM spans
WHERE ({condition}) AND ({_IS_RUN} OR span_type IN ('model_generation', 'tool_call') OR status = 'error')
GROUP BY team_id, project_id, deployment_id, build_id, model, hour"""


@dataclass(frozen=True)
class SkipIndex:
    table: str
    name: str
    expression: str
    type: str
    granularity: int

    def ddl(self) -> str:
        return f"INDEX {self.name} {self.expression} TYPE {self.type} GRANULARITY {self.granularity}"


# Trace lookups by id skip granules with this bloom filter. 1% false positives over 4 granules builds
# at a fraction of the cost of 0.1% per granule (bench/ingest.py) and finds a trace as fast at 1M
# spans (bench/query.py). Existing stores get it re-made by migrate (migrate.reindex).
SPANS_TRACE_INDEX = SkipIndex("spans", "idx_trace", "trace_id", "bloom_filter(0.01)", 4)


def tables(ttl: Ttl) -> dict[str, str]:
    """CREATE statements by table name, in dependency order (targets before their views)."""
    return {
        "spans": f"""
CREATE TABLE IF NOT EXISTS spans ({_SCOPE_COLUMNS},
    trace_id String,
    span_id String,
    parent_span_id String,
    is_root Bool,
    name String,
    span_type LowCardinality(String),
    start_time DateTime64(3, 'UTC'),
    end_time DateTime64(3, 'UTC'),
    duration_ms Float64,
    status LowCardinality(String),
    error_message String,
    model LowCardinality(String),
    provider LowCardinality(String),
    input_tokens UInt64,
    output_tokens UInt64,
    total_tokens UInt64,
    attributes String CODEC(ZSTD(3)),
    metadata String CODEC(ZSTD(3)),
    input String CODEC(ZSTD(3)),
    output String CODEC(ZSTD(3)),{_LINEAGE_COLUMNS},
    {SPANS_TRACE_INDEX.ddl()}
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(start_time)
ORDER BY (team_id, project_id, toStartOfHour(start_time), trace_id, span_id)
{_ttl("start_time", ttl.spans_days)}
{_TABLE_SETTINGS}""",
        "logs": f"""
CREATE TABLE IF NOT EXISTS logs ({_SCOPE_COLUMNS},
    timestamp DateTime64(3, 'UTC'),
    level LowCardinality(String),
    message String CODEC(ZSTD(3)),
    trace_id String,
    span_id String,
    source LowCardinality(String),
    attributes String CODEC(ZSTD(3)),{_LINEAGE_COLUMNS},
    INDEX idx_trace trace_id TYPE bloom_filter(0.001) GRANULARITY 1
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (team_id, project_id, timestamp, record_id)
{_ttl("timestamp", ttl.logs_days)}
{_TABLE_SETTINGS}""",
        "metrics": f"""
CREATE TABLE IF NOT EXISTS metrics ({_SCOPE_COLUMNS},
    timestamp DateTime64(3, 'UTC'),
    name LowCardinality(String),
    value Float64,
    unit LowCardinality(String),
    metric_type LowCardinality(String),
    attributes String CODEC(ZSTD(3)),{_LINEAGE_COLUMNS}
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (team_id, project_id, name, timestamp, record_id)
{_ttl("timestamp", ttl.metrics_days)}
{_TABLE_SETTINGS}""",
        "scores": f"""
CREATE TABLE IF NOT EXISTS scores ({_SCOPE_COLUMNS},
    timestamp DateTime64(3, 'UTC'),
    trace_id String,
    span_id String,
    scorer_name LowCardinality(String),
    score Float64,
    reason String,
    attributes String CODEC(ZSTD(3)),{_LINEAGE_COLUMNS}
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (team_id, project_id, timestamp, record_id)
{_ttl("timestamp", ttl.scores_days)}
{_TABLE_SETTINGS}""",
        "build_logs": f"""
CREATE TABLE IF NOT EXISTS build_logs (
    team_id LowCardinality(String),
    project_id LowCardinality(String),
    deployment_id LowCardinality(String),
    build_id String,
    line_no UInt32,
    timestamp DateTime64(3, 'UTC'),
    message String CODEC(ZSTD(3)),{_LINEAGE_COLUMNS}
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (team_id, build_id, line_no)
{_ttl("timestamp", ttl.build_logs_days)}
{_TABLE_SETTINGS}""",
        # Hourly rollup of the two span families the metrics API reads: traces (root spans) and
        # model calls (model_generation spans). Sums, counts and t-digest states only.
        "span_rollup_hourly": f"""
CREATE TABLE IF NOT EXISTS span_rollup_hourly (
    team_id LowCardinality(String),
    project_id LowCardinality(String),
    deployment_id LowCardinality(String),
    environment LowCardinality(String),
    family LowCardinality(String),
    model LowCardinality(String),
    hour DateTime('UTC'),
    calls AggregateFunction(count),
    errors AggregateFunction(sum, UInt64),
    duration_q AggregateFunction(quantilesTDigest(0.5, 0.95), Float64),
    duration_sum AggregateFunction(sum, Float64),
    input_tokens AggregateFunction(sum, UInt64),
    output_tokens AggregateFunction(sum, UInt64),
    total_tokens AggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (team_id, project_id, family, hour, deployment_id, environment, model)
{_ttl("hour", ttl.spans_days)}
{_TABLE_SETTINGS}""",
        "span_rollup_hourly_mv": """
CREATE MATERIALIZED VIEW IF NOT EXISTS span_rollup_hourly_mv TO span_rollup_hourly AS
SELECT team_id, project_id, deployment_id, environment,
       if(is_root, 'trace', 'model') AS family,
       if(is_root, '', model) AS model,
       toStartOfHour(start_time) AS hour,
       countState() AS calls,
       sumState(toUInt64(status = 'error')) AS errors,
       quantilesTDigestState(0.5, 0.95)(duration_ms) AS duration_q,
       sumState(duration_ms) AS duration_sum,
       sumState(input_tokens) AS input_tokens,
       sumState(output_tokens) AS output_tokens,
       sumState(total_tokens) AS total_tokens
FROM spans
WHERE is_root OR span_type = 'model_generation'
GROUP BY team_id, project_id, deployment_id, environment, family, model, hour""",
        # Per-build rollup for releases and the release guard (chalicelib/services/releases): runs
        # (root agent_run / workflow_run spans) and their errors, tool calls and their errors, model
        # calls and tokens per model, run latency as t-digest states (p50/p95/p99) and a bounded
        # reservoir of raw run durations (for the latency significance test: states cannot be resampled).
        "release_rollup_hourly": f"""
CREATE TABLE IF NOT EXISTS release_rollup_hourly (
    team_id LowCardinality(String),
    project_id LowCardinality(String),
    deployment_id LowCardinality(String),
    build_id LowCardinality(String),
    model LowCardinality(String),
    hour DateTime('UTC'),
    runs SimpleAggregateFunction(sum, UInt64),
    run_errors SimpleAggregateFunction(sum, UInt64),
    error_spans SimpleAggregateFunction(sum, UInt64),
    tool_calls SimpleAggregateFunction(sum, UInt64),
    tool_errors SimpleAggregateFunction(sum, UInt64),
    generations SimpleAggregateFunction(sum, UInt64),
    input_tokens SimpleAggregateFunction(sum, UInt64),
    output_tokens SimpleAggregateFunction(sum, UInt64),
    total_tokens SimpleAggregateFunction(sum, UInt64),
    run_ms AggregateFunction({RUN_QUANTILES}, Float64),
    run_ms_sample AggregateFunction({RUN_SAMPLE}, Float64),
    last_end SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (team_id, project_id, deployment_id, build_id, hour, model)
{_ttl("hour", ttl.spans_days)}
{_TABLE_SETTINGS}""",
        "release_rollup_hourly_mv": f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS release_rollup_hourly_mv TO release_rollup_hourly AS
{release_rollup_select()}""",
        # Per-model prices in USD per million tokens. team_id '' is the seed list (prices.py);
        # a row with a team id overrides it for that team.
        "model_prices": f"""
CREATE TABLE IF NOT EXISTS model_prices (
    team_id String,
    model String,
    input_per_mtok Float64,
    output_per_mtok Float64,
    source String,
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (team_id, model)
{_TABLE_SETTINGS}""",
        # Rows each source object put into a table (a view per table feeds it), so the worker knows
        # whether every line made it without reading rows back.
        "ingested_rows": f"""
CREATE TABLE IF NOT EXISTS ingested_rows (
    source_key String,
    rows UInt64
) ENGINE = SummingMergeTree
ORDER BY source_key
{_TABLE_SETTINGS}""",
        **{f"{t}_ingested_rows_mv": f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {t}_ingested_rows_mv TO ingested_rows AS
SELECT source_key, count() AS rows FROM {t} GROUP BY source_key""" for t in ("spans", "logs", "metrics", "scores", "build_logs")},
        "ingested_objects": f"""
CREATE TABLE IF NOT EXISTS ingested_objects (
    bucket String,
    key String,
    etag String,
    kind LowCardinality(String),
    team_id LowCardinality(String),
    lines UInt64,
    ingested UInt64,
    quarantined UInt64,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (bucket, key, etag)
{_TABLE_SETTINGS}""",
    }


def ttl_alters(ttl: Ttl) -> list[str]:
    """Re-applied on every migrate so a changed retention takes effect on existing tables."""
    return [
        f"ALTER TABLE spans MODIFY {_ttl('start_time', ttl.spans_days)}",
        f"ALTER TABLE span_rollup_hourly MODIFY {_ttl('hour', ttl.spans_days)}",
        f"ALTER TABLE release_rollup_hourly MODIFY {_ttl('hour', ttl.spans_days)}",
        f"ALTER TABLE logs MODIFY {_ttl('timestamp', ttl.logs_days)}",
        f"ALTER TABLE metrics MODIFY {_ttl('timestamp', ttl.metrics_days)}",
        f"ALTER TABLE scores MODIFY {_ttl('timestamp', ttl.scores_days)}",
        f"ALTER TABLE build_logs MODIFY {_ttl('timestamp', ttl.build_logs_days)}",
    ]


# --- how a JSONL kind maps onto its table ------------------------------------------------------

_SCOPE_INPUT = (
    ("schemaVersion", "Nullable(UInt8)"), ("kind", "Nullable(String)"), ("recordId", "Nullable(String)"),
    ("timestamp", "Nullable(DateTime64(3, 'UTC'))"), ("teamId", "Nullable(String)"),
    ("projectId", "Nullable(String)"), ("deploymentId", "Nullable(String)"), ("buildId", "Nullable(String)"),
    ("commit", "Nullable(String)"), ("environment", "Nullable(String)"), ("serviceName", "Nullable(String)"),
)
_SCOPE_SELECT = (
    ("team_id", "teamId"), ("project_id", "projectId"), ("deployment_id", "deploymentId"),
    ("build_id", "buildId"), ("commit", "ifNull(commit, '')"), ("environment", "environment"),
    ("service_name", "ifNull(serviceName, '')"), ("record_id", "recordId"),
)
# Bound per object: the record must belong to the team/project/deployment its S3 key names, so a
# deployed server cannot write into another team's data.
_SCOPE_CONTRACT = (
    "schemaVersion = 1", "length(recordId) BETWEEN 1 AND 200", "isNotNull(timestamp)",
    "teamId = {team:String}", "projectId = {project:String}", "deploymentId = {deployment:String}",
    "isNotNull(buildId)", "isNotNull(environment)",
)


@dataclass(frozen=True)
class KindSpec:
    kind: str  # the record's `kind`
    prefix: str  # the S3 key's {kind} segment
    table: str
    input: tuple[tuple[str, str], ...]  # JSON field -> type, as the engine parses it
    select: tuple[tuple[str, str], ...]  # column -> expression over the input
    contract: tuple[str, ...]  # every line must satisfy all of these

    def structure(self) -> str:
        fields = self.input + _SCOPE_INPUT
        return ", ".join(f"`{name}` {type_}" for name, type_ in fields)

    def columns(self) -> list[str]:
        return [c for c, _ in _SCOPE_SELECT + self.select] + ["source_key"]

    def expressions(self) -> list[str]:
        return [e for _, e in _SCOPE_SELECT + self.select] + ["{source_key:String}"]

    def predicate(self) -> str:
        return " AND ".join(f"({c})" for c in (f"kind = '{self.kind}'",) + _SCOPE_CONTRACT + self.contract)


def _json(name: str) -> str:
    return f"ifNull(`{name}`, '{{}}')"


SPANS = KindSpec(
    kind="span", prefix="spans", table="spans",
    input=(
        ("traceId", "Nullable(String)"), ("spanId", "Nullable(String)"), ("parentSpanId", "Nullable(String)"),
        ("isRoot", "Nullable(Bool)"), ("name", "Nullable(String)"), ("spanType", "Nullable(String)"),
        ("startTime", "Nullable(DateTime64(3, 'UTC'))"), ("endTime", "Nullable(DateTime64(3, 'UTC'))"),
        ("durationMs", "Nullable(Float64)"), ("status", "Nullable(String)"), ("errorMessage", "Nullable(String)"),
        ("model", "Nullable(String)"), ("provider", "Nullable(String)"), ("inputTokens", "Nullable(Int64)"),
        ("outputTokens", "Nullable(Int64)"), ("totalTokens", "Nullable(Int64)"), ("attributes", "Nullable(String)"),
        ("metadata", "Nullable(String)"), ("input", "Nullable(String)"), ("output", "Nullable(String)"),
    ),
    select=(
        ("trace_id", "traceId"), ("span_id", "spanId"), ("parent_span_id", "ifNull(parentSpanId, '')"),
        ("is_root", "ifNull(isRoot, ifNull(parentSpanId, '') = '')"), ("name", "name"), ("span_type", "spanType"),
        ("start_time", "startTime"), ("end_time", "endTime"), ("duration_ms", "durationMs"), ("status", "status"),
        ("error_message", "ifNull(errorMessage, '')"), ("model", "ifNull(model, '')"),
        ("provider", "ifNull(provider, '')"), ("input_tokens", "toUInt64(ifNull(inputTokens, 0))"),
        ("output_tokens", "toUInt64(ifNull(outputTokens, 0))"),
        ("total_tokens", "toUInt64(ifNull(totalTokens, ifNull(inputTokens, 0) + ifNull(outputTokens, 0)))"),
        ("attributes", _json("attributes")), ("metadata", _json("metadata")), ("input", "ifNull(input, '')"),
        ("output", "ifNull(output, '')"),
    ),
    contract=(
        "length(traceId) >= 1", "length(spanId) >= 1", "isNotNull(name)", "length(spanType) >= 1",
        "isNotNull(startTime)", "isNotNull(endTime)", "durationMs >= 0", "status IN ('ok', 'error')",
        "ifNull(inputTokens, 0) >= 0", "ifNull(outputTokens, 0) >= 0", "ifNull(totalTokens, 0) >= 0",
    ),
)

LOGS = KindSpec(
    kind="log", prefix="logs", table="logs",
    input=(
        ("level", "Nullable(String)"), ("message", "Nullable(String)"), ("traceId", "Nullable(String)"),
        ("spanId", "Nullable(String)"), ("source", "Nullable(String)"), ("attributes", "Nullable(String)"),
    ),
    select=(
        ("timestamp", "timestamp"), ("level", "level"), ("message", "message"), ("trace_id", "ifNull(traceId, '')"),
        ("span_id", "ifNull(spanId, '')"), ("source", "ifNull(source, '')"), ("attributes", _json("attributes")),
    ),
    contract=("level IN ('trace', 'debug', 'info', 'warn', 'error', 'fatal')", "isNotNull(message)"),
)

METRICS = KindSpec(
    kind="metric", prefix="metrics", table="metrics",
    input=(
        ("name", "Nullable(String)"), ("value", "Nullable(Float64)"), ("unit", "Nullable(String)"),
        ("metricType", "Nullable(String)"), ("attributes", "Nullable(String)"),
    ),
    select=(
        ("timestamp", "timestamp"), ("name", "name"), ("value", "value"), ("unit", "ifNull(unit, '')"),
        ("metric_type", "metricType"), ("attributes", _json("attributes")),
    ),
    contract=("length(name) >= 1", "isNotNull(value)", "metricType IN ('counter', 'gauge', 'histogram')"),
)

SCORES = KindSpec(
    kind="score", prefix="scores", table="scores",
    input=(
        ("traceId", "Nullable(String)"), ("spanId", "Nullable(String)"), ("scorerName", "Nullable(String)"),
        ("score", "Nullable(Float64)"), ("reason", "Nullable(String)"), ("attributes", "Nullable(String)"),
    ),
    select=(
        ("timestamp", "timestamp"), ("trace_id", "traceId"), ("span_id", "ifNull(spanId, '')"),
        ("scorer_name", "scorerName"), ("score", "score"), ("reason", "ifNull(reason, '')"),
        ("attributes", _json("attributes")),
    ),
    contract=("length(traceId) >= 1", "length(scorerName) >= 1", "isNotNull(score)"),
)

KINDS: dict[str, KindSpec] = {spec.prefix: spec for spec in (SPANS, LOGS, METRICS, SCORES)}


# Build logs: `builds/{buildId}/build.log`, one `<ISO-8601 UTC with ms and Z> <text>` per line. The
# team, project and deployment come from the object's metadata. Empty lines are skipped.
BUILD_LOG_TS = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z$"
_TS_TEXT = "splitByChar(' ', line)[1]"
BUILD_LOGS = KindSpec(
    kind="build_log", prefix="builds", table="build_logs",
    input=(("line", "String"),),
    select=(
        ("team_id", "{team:String}"), ("project_id", "{project:String}"), ("deployment_id", "{deployment:String}"),
        ("build_id", "{build:String}"), ("line_no", "toUInt32(_row_number + {line_offset:UInt64} + 1)"),
        ("timestamp", f"parseDateTime64BestEffort({_TS_TEXT}, 3, 'UTC')"),
        ("message", "if(position(line, ' ') > 0, substring(line, position(line, ' ') + 1), '')"),
    ),
    contract=(f"match({_TS_TEXT}, '{BUILD_LOG_TS}')",),
)


def build_log_columns() -> tuple[list[str], list[str]]:
    return [c for c, _ in BUILD_LOGS.select] + ["source_key"], [e for _, e in BUILD_LOGS.select] + ["{source_key:String}"]
