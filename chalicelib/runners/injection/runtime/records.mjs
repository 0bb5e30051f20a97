// mastra-admin observability records: pure logic shared by the injected entry and its tests.
//
// Maps Mastra's exported spans, logs, metrics and scores to contract v1 records
// (chalicelib/contracts/observability-record.v1.schema.json), redacts sensitive data, and writes
// line-atomic, rotating JSONL files. Imports only Node built-ins (never @mastra/*), so it runs
// and is tested with plain `node`.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const SCHEMA_VERSION = 1;
export const REDACTED = '[REDACTED]';
export const KINDS = ['spans', 'logs', 'metrics', 'scores'];
export const KIND_DIR = { span: 'spans', log: 'logs', metric: 'metrics', score: 'scores' };

// ---------------------------------------------------------------------------------------------
// Redaction

// Keys are compared after lower-casing and dropping separators, so `apiKey`, `api_key`,
// `api-key`, `API Key` and `x-api-key` all normalise to (…)`apikey`.
const SENSITIVE_EXACT = new Set(['token', 'secret', 'password', 'passwd', 'apikey', 'authorization', 'cookie']);
// Compound keys ending with a sensitive word (accessToken, client_secret, set-cookie,
// proxy-authorization, dbPassword). `inputTokens`/`maxTokens` end in "tokens" and are kept.
const SENSITIVE_SUFFIXES = ['token', 'secret', 'password', 'passwd', 'apikey', 'authorization', 'cookie'];

export function normalizeKey(key) {
  return String(key).toLowerCase().replace(/[\s_.\-]/g, '');
}

export function isSensitiveKey(key) {
  const k = normalizeKey(key);
  if (!k) return false;
  if (SENSITIVE_EXACT.has(k)) return true;
  return SENSITIVE_SUFFIXES.some((s) => k.endsWith(s));
}

// Environment variables whose values are scrubbed from every string: the sensitive names above,
// plus names ending in KEY (OPENAI_API_KEY, STRIPE_KEY), plus MASTRA_ADMIN_REDACT_ENV (comma list).
export function secretValuesFromEnv(env = process.env, minLength = 6) {
  const extra = new Set(
    String(env.MASTRA_ADMIN_REDACT_ENV ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const values = new Set();
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== 'string' || value.trim().length < minLength) continue;
    if (name.startsWith('MASTRA_ADMIN_') && !extra.has(name)) continue;
    if (extra.has(name) || isSensitiveKey(name) || normalizeKey(name).endsWith('key')) values.add(value);
  }
  // Longest first, so a secret containing another is replaced whole.
  return [...values].sort((a, b) => b.length - a.length);
}

function scrubString(s, secretValues) {
  let out = s;
  for (const v of secretValues) {
    if (out.includes(v)) out = out.split(v).join(REDACTED);
  }
  // A JSON document inside a string (tool-call arguments are often JSON text): redact its keys.
  const t = out.trimStart();
  if ((t.startsWith('{') || t.startsWith('[')) && out.length < 1_000_000) {
    try {
      const parsed = JSON.parse(out);
      if (parsed && typeof parsed === 'object') {
        const red = redact(parsed, { secretValues: [] });
        const again = JSON.stringify(red);
        if (again !== JSON.stringify(parsed)) return again;
      }
    } catch {
      /* not JSON */
    }
  }
  return out;
}

/**
 * Deep copy of `value` with sensitive keys replaced by "[REDACTED]" at any depth and known secret
 * values scrubbed from strings. Handles cycles, Dates, Errors, Maps, Sets, BigInts and functions.
 */
export function redact(value, { secretValues = [], maxDepth = 40 } = {}) {
  const seen = new WeakSet();
  const walk = (v, depth) => {
    if (v === null || v === undefined) return v;
    const t = typeof v;
    if (t === 'string') return scrubString(v, secretValues);
    if (t === 'number' || t === 'boolean') return v;
    if (t === 'bigint') return v.toString();
    if (t === 'function' || t === 'symbol') return undefined;
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
    if (depth > maxDepth) return '[Truncated]';
    if (seen.has(v)) return '[Circular]';
    seen.add(v);
    try {
      if (v instanceof Error) {
        return walk({ name: v.name, message: v.message, stack: v.stack, ...v }, depth + 1);
      }
      if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1) ?? null);
      if (v instanceof Map) return walk(Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), x])), depth + 1);
      if (v instanceof Set) return walk([...v], depth + 1);
      if (ArrayBuffer.isView(v)) return `[binary ${v.byteLength} bytes]`;
      const out = {};
      for (const [k, x] of Object.entries(v)) {
        if (isSensitiveKey(k)) {
          out[k] = x === null || x === undefined || x === '' ? x : REDACTED;
          continue;
        }
        const w = walk(x, depth + 1);
        if (w !== undefined) out[k] = w;
      }
      return out;
    } finally {
      seen.delete(v);
    }
  };
  return walk(value, 0);
}

// ---------------------------------------------------------------------------------------------
// Stamps

export const STAMP_ENV = {
  teamId: 'MASTRA_ADMIN_TEAM_ID',
  projectId: 'MASTRA_ADMIN_PROJECT_ID',
  deploymentId: 'MASTRA_ADMIN_DEPLOYMENT_ID',
  buildId: 'MASTRA_ADMIN_BUILD_ID',
  commit: 'MASTRA_ADMIN_COMMIT',
  environment: 'MASTRA_ADMIN_ENVIRONMENT',
  serviceName: 'MASTRA_ADMIN_SERVICE_NAME',
};

/** The stamp every record carries: build-time values, overridden by non-blank runtime env vars. */
export function resolveStamp(buildStamp = {}, env = process.env) {
  const pick = (key) => {
    const fromEnv = env[STAMP_ENV[key]];
    if (typeof fromEnv === 'string' && fromEnv.trim()) return fromEnv.trim();
    const v = buildStamp[key];
    return typeof v === 'string' && v.trim() ? v.trim() : null;
  };
  return {
    teamId: pick('teamId') ?? '',
    projectId: pick('projectId') ?? '',
    deploymentId: pick('deploymentId') ?? '',
    buildId: pick('buildId') ?? '',
    commit: pick('commit'),
    environment: pick('environment') ?? 'development',
    serviceName: pick('serviceName') ?? 'mastra',
  };
}

function base(kind, recordId, timestamp, stamp) {
  return {
    schemaVersion: SCHEMA_VERSION,
    kind,
    recordId,
    timestamp,
    teamId: stamp.teamId,
    projectId: stamp.projectId,
    deploymentId: stamp.deploymentId,
    buildId: stamp.buildId,
    commit: stamp.commit ?? null,
    environment: stamp.environment,
    serviceName: stamp.serviceName,
  };
}

// ---------------------------------------------------------------------------------------------
// Mapping

export function toIso(t, fallback = new Date()) {
  if (t instanceof Date && !Number.isNaN(t.getTime())) return t.toISOString();
  if (typeof t === 'number' && Number.isFinite(t)) return new Date(t).toISOString();
  if (typeof t === 'string') {
    const d = new Date(t);
    if (!Number.isNaN(d.getTime())) return d.toISOString();
  }
  return fallback instanceof Date ? fallback.toISOString() : toIso(fallback);
}

function tokenCount(v) {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.round(v);
  if (v && typeof v === 'object' && typeof v.total === 'number') return tokenCount(v.total);
  return null;
}

function firstString(...vs) {
  for (const v of vs) if (typeof v === 'string' && v.trim()) return v;
  return null;
}

/** Model, provider and token counts of a model_generation (or model_step) span. */
export function modelUsage(span) {
  const a = span?.attributes ?? {};
  const u = a.usage ?? span?.usage ?? {};
  const inputTokens = tokenCount(u.inputTokens ?? u.promptTokens ?? u.input_tokens);
  const outputTokens = tokenCount(u.outputTokens ?? u.completionTokens ?? u.output_tokens);
  let totalTokens = tokenCount(u.totalTokens ?? u.total_tokens);
  if (totalTokens === null && (inputTokens !== null || outputTokens !== null)) {
    totalTokens = (inputTokens ?? 0) + (outputTokens ?? 0);
  }
  return {
    model: firstString(a.responseModel, a.model, a.modelId),
    provider: firstString(a.provider),
    inputTokens,
    outputTokens,
    totalTokens,
  };
}

export const DEFAULT_MAX_FIELD_CHARS = 256 * 1024;

/** JSON text of an already redacted value (null when absent), cut to maxChars. */
export function encodeField(value, maxChars = DEFAULT_MAX_FIELD_CHARS) {
  if (value === undefined || value === null) return null;
  let s;
  try {
    s = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value);
  } catch {
    s = JSON.stringify(String(value));
  }
  if (s === undefined) return null;
  if (s.length > maxChars) s = JSON.stringify({ truncated: true, length: s.length, head: s.slice(0, maxChars) });
  return s;
}

function plainObject(v) {
  return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
}

/** Contract record for an exported Mastra span (call it for span_ended events). */
export function spanToRecord(span, stamp, { secretValues = [], maxFieldChars } = {}) {
  const opts = { secretValues };
  const start = toIso(span.startTime);
  const end = toIso(span.endTime ?? span.startTime);
  const durationMs = Math.max(0, Date.parse(end) - Date.parse(start)) || 0;
  const spanType = String(span.type ?? 'generic').toLowerCase();
  const err = span.errorInfo ?? span.error;
  const rec = base('span', `${span.traceId}:${span.id}`, start, stamp);
  const meta = { ...plainObject(span.metadata) };
  for (const k of ['entityType', 'entityId', 'entityName', 'tags']) {
    if (span[k] !== undefined && span[k] !== null && meta[k] === undefined) meta[k] = span[k];
  }
  const usage = spanType === 'model_generation' || spanType === 'model_step' ? modelUsage(span) : null;
  Object.assign(rec, {
    traceId: String(span.traceId),
    spanId: String(span.id),
    parentSpanId: span.parentSpanId ? String(span.parentSpanId) : null,
    isRoot: Boolean(span.isRootSpan ?? !span.parentSpanId),
    name: String(span.name ?? spanType),
    spanType,
    startTime: start,
    endTime: end,
    durationMs,
    status: err ? 'error' : 'ok',
    errorMessage: err ? String(redact(err.message ?? err, opts) ?? 'error') : null,
    model: usage?.model ?? null,
    provider: usage?.provider ?? null,
    inputTokens: usage?.inputTokens ?? null,
    outputTokens: usage?.outputTokens ?? null,
    totalTokens: usage?.totalTokens ?? null,
    attributes: plainObject(redact(plainObject(span.attributes), opts)),
    metadata: plainObject(redact(meta, opts)),
    input: encodeField(redact(span.input, opts), maxFieldChars),
    output: encodeField(redact(span.output, opts), maxFieldChars),
  });
  return rec;
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

export function normalizeLevel(level) {
  const l = String(level ?? 'info').toLowerCase();
  if (LEVELS.has(l)) return l;
  if (l === 'warning') return 'warn';
  if (l === 'critical') return 'fatal';
  if (typeof level === 'number') {
    // pino numbers
    if (level >= 60) return 'fatal';
    if (level >= 50) return 'error';
    if (level >= 40) return 'warn';
    if (level >= 30) return 'info';
    if (level >= 20) return 'debug';
    return 'trace';
  }
  return 'info';
}

/** Attributes from the extra arguments of a logger call (`logger.info(msg, {..}, ...)`). */
export function logArgsToAttributes(args) {
  const attributes = {};
  const rest = [];
  for (const a of args ?? []) {
    if (a instanceof Error) attributes.error = { name: a.name, message: a.message, stack: a.stack };
    else if (a && typeof a === 'object' && !Array.isArray(a)) Object.assign(attributes, a);
    else if (a !== undefined) rest.push(a);
  }
  if (rest.length) attributes.args = rest;
  return attributes;
}

/** Contract record for one logger call or an exported Mastra log. */
export function logToRecord(log, stamp, { secretValues = [], source = 'logger' } = {}) {
  const opts = { secretValues };
  const rec = base('log', log.logId ?? randomUUID(), toIso(log.timestamp), stamp);
  let message = log.message;
  if (typeof message !== 'string') message = message instanceof Error ? message.message : JSON.stringify(redact(message, opts)) ?? '';
  const attributes = { ...plainObject(log.data), ...plainObject(log.attributes) };
  if (log.metadata && Object.keys(log.metadata).length) attributes.metadata = log.metadata;
  if (log.tags?.length) attributes.tags = log.tags;
  Object.assign(rec, {
    level: normalizeLevel(log.level),
    message: redact(message, opts),
    traceId: log.traceId ?? null,
    spanId: log.spanId ?? null,
    source: log.source ?? source,
    attributes: plainObject(redact(attributes, opts)),
  });
  return rec;
}

export function metricTypeOf(metric) {
  const explicit = metric?.metricType ?? metric?.metadata?.metricType ?? metric?.type;
  if (['counter', 'gauge', 'histogram'].includes(explicit)) return explicit;
  const n = String(metric?.name ?? '');
  if (/duration|latency|_ms$|_seconds$|size|bytes/.test(n)) return 'histogram';
  if (/tokens|count|total|calls|errors/.test(n)) return 'counter';
  return 'gauge';
}

export function metricToRecord(metric, stamp, { secretValues = [] } = {}) {
  const rec = base('metric', metric.metricId ?? randomUUID(), toIso(metric.timestamp), stamp);
  const attributes = { ...plainObject(metric.labels) };
  if (metric.traceId) attributes.traceId = metric.traceId;
  if (metric.spanId) attributes.spanId = metric.spanId;
  if (metric.costContext) attributes.cost = metric.costContext;
  if (metric.metadata && Object.keys(metric.metadata).length) attributes.metadata = metric.metadata;
  Object.assign(rec, {
    name: String(metric.name),
    value: Number.isFinite(Number(metric.value)) ? Number(metric.value) : 0,
    unit: metric.unit ?? null,
    metricType: metricTypeOf(metric),
    attributes: plainObject(redact(attributes, { secretValues })),
  });
  return rec;
}

export function scoreToRecord(score, stamp, { secretValues = [] } = {}) {
  const rec = base('score', score.scoreId ?? randomUUID(), toIso(score.timestamp), stamp);
  const attributes = {};
  for (const k of ['scorerId', 'scorerVersion', 'source', 'scoreSource', 'experimentId', 'scoreTraceId', 'targetEntityType']) {
    if (score[k] !== undefined && score[k] !== null) attributes[k] = score[k];
  }
  if (score.metadata && Object.keys(score.metadata).length) attributes.metadata = score.metadata;
  Object.assign(rec, {
    traceId: String(score.traceId ?? ''),
    spanId: score.spanId ?? null,
    scorerName: String(score.scorerName ?? score.scorerId ?? 'unknown'),
    score: Number(score.score),
    reason: score.reason == null ? null : String(redact(score.reason, { secretValues })),
    attributes: plainObject(redact(attributes, { secretValues })),
  });
  return rec;
}

// ---------------------------------------------------------------------------------------------
// Rotating, line-atomic JSONL files

export function utcStamp(d = new Date()) {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

export function resolveObservabilityDir(env = process.env, cwd = process.cwd()) {
  const dir = env.MASTRA_ADMIN_OBSERVABILITY_DIR;
  return dir && dir.trim() ? path.resolve(cwd, dir.trim()) : path.join(cwd, 'observability');
}

function positiveNumber(v, fallback) {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

// A segment closes ROTATE_SECONDS after its first line (or at ROTATE_BYTES): one S3 PUT per kind
// per interval at most while the server writes, none while it is idle (README: the PUT cost).
export const DEFAULT_ROTATE_SECONDS = 2;
export const DEFAULT_ROTATE_BYTES = 5 * 1024 * 1024;

export function rotationSettings(env = process.env) {
  return {
    maxBytes: positiveNumber(env.MASTRA_ADMIN_ROTATE_BYTES, DEFAULT_ROTATE_BYTES),
    maxAgeMs: positiveNumber(env.MASTRA_ADMIN_ROTATE_SECONDS, DEFAULT_ROTATE_SECONDS) * 1000,
  };
}

/** How often the age check runs: an eighth of the age limit (a closed segment waits at most that
 * long past its limit), between 100 ms and 1 s; a stat-free check of two numbers per kind. */
export function rotationTickMs({ maxAgeMs }) {
  return Math.max(100, Math.min(1000, Math.floor(maxAgeMs / 8)));
}

/**
 * `<dir>/current.jsonl`, appended one whole line per write(2) (O_APPEND), renamed to
 * `<dir>/closed/<yyyymmddTHHMMSSZ>_<uuid>.jsonl` when it reaches maxBytes, when it is older than
 * maxAgeMs and non-empty, or on close. Closed files only ever hold whole lines.
 */
export class RotatingJsonlFile {
  constructor(dir, { maxBytes = DEFAULT_ROTATE_BYTES, maxAgeMs = DEFAULT_ROTATE_SECONDS * 1000, now = () => Date.now() } = {}) {
    this.dir = dir;
    this.closedDir = path.join(dir, 'closed');
    this.currentPath = path.join(dir, 'current.jsonl');
    this.maxBytes = maxBytes;
    this.maxAgeMs = maxAgeMs;
    this.now = now;
    this.fd = null;
    this.size = 0;
    this.openedAt = null; // time of the first line in the current file
    fs.mkdirSync(this.closedDir, { recursive: true });
    this.#recover();
  }

  // A current.jsonl left by a previous process is closed first (whole lines only).
  #recover() {
    let st;
    try {
      st = fs.statSync(this.currentPath);
    } catch {
      return;
    }
    if (st.size === 0) return;
    const buf = fs.readFileSync(this.currentPath);
    const lastNl = buf.lastIndexOf(0x0a);
    if (lastNl < 0) {
      fs.rmSync(this.currentPath, { force: true });
      return;
    }
    if (lastNl !== buf.length - 1) fs.truncateSync(this.currentPath, lastNl + 1);
    this.size = lastNl + 1;
    this.rotate();
  }

  #open() {
    if (this.fd !== null) return;
    this.fd = fs.openSync(this.currentPath, 'a');
    this.size = fs.fstatSync(this.fd).size;
    if (this.size > 0 && this.openedAt === null) this.openedAt = this.now();
  }

  /** Append records (objects) as JSON lines; returns the number of bytes written. */
  append(records) {
    const list = Array.isArray(records) ? records : [records];
    let written = 0;
    for (const r of list) {
      const line = Buffer.from(JSON.stringify(r) + '\n', 'utf8');
      this.#open();
      if (this.size > 0 && this.size + line.length > this.maxBytes) {
        this.rotate();
        this.#open();
      }
      let off = 0;
      while (off < line.length) off += fs.writeSync(this.fd, line, off, line.length - off);
      this.size += line.length;
      written += line.length;
      if (this.openedAt === null) this.openedAt = this.now();
      if (this.size >= this.maxBytes) this.rotate();
    }
    return written;
  }

  /** Rotate when the current file is non-empty and older than maxAgeMs. */
  maybeRotateByAge() {
    if (this.size > 0 && this.openedAt !== null && this.now() - this.openedAt >= this.maxAgeMs) {
      return this.rotate();
    }
    return null;
  }

  /** Close the current file and move it to closed/ (when non-empty). Returns the closed path. */
  rotate() {
    if (this.fd !== null) {
      try {
        fs.fsyncSync(this.fd);
      } catch {
        /* best effort */
      }
      fs.closeSync(this.fd);
      this.fd = null;
    }
    let size = 0;
    try {
      size = fs.statSync(this.currentPath).size;
    } catch {
      size = 0;
    }
    this.size = 0;
    this.openedAt = null;
    if (size === 0) return null;
    const target = path.join(this.closedDir, `${utcStamp(new Date(this.now()))}_${randomUUID()}.jsonl`);
    fs.renameSync(this.currentPath, target);
    return target;
  }

  close() {
    return this.rotate();
  }
}

/** One RotatingJsonlFile per kind under obsDir, routing contract records by `kind`. */
export class ObservabilityFiles {
  constructor(obsDir, settings = {}) {
    this.obsDir = obsDir;
    this.files = {};
    for (const k of KINDS) this.files[k] = new RotatingJsonlFile(path.join(obsDir, k), settings);
    this.timer = null;
  }

  write(record) {
    const dir = KIND_DIR[record.kind];
    if (!dir) throw new Error(`unknown record kind ${record.kind}`);
    this.files[dir].append(record);
  }

  tick() {
    const closed = [];
    for (const f of Object.values(this.files)) {
      const p = f.maybeRotateByAge();
      if (p) closed.push(p);
    }
    return closed;
  }

  startTimer(intervalMs) {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.tick();
      } catch (e) {
        process.stderr.write(`[mastra-admin] rotation failed: ${e?.message ?? e}\n`);
      }
    }, intervalMs);
    this.timer.unref?.();
  }

  closeAll() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const closed = [];
    for (const f of Object.values(this.files)) {
      const p = f.close();
      if (p) closed.push(p);
    }
    return closed;
  }
}
