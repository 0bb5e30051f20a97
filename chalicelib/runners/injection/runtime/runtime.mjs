// mastra-admin injected runtime: registers a JSONL file exporter and a logger tap on the user's
// built `mastra` instance. Copied into the Mastra build output (`<output>/mastra-admin/`) by
// inject.mjs and loaded by the generated `mastra-admin-entry.mjs` before the server starts.
import { BaseExporter, DefaultObservabilityInstance, Observability, SensitiveDataFilter } from '@mastra/observability';
import {
  ObservabilityFiles,
  logArgsToAttributes,
  logToRecord,
  metricToRecord,
  redact,
  resolveObservabilityDir,
  resolveStamp,
  rotationSettings,
  rotationTickMs,
  scoreToRecord,
  secretValuesFromEnv,
  spanToRecord,
} from './records.mjs';

// The active span (AsyncLocalStorage) correlates logger calls with traces; optional API, loaded
// without a top-level await: installObservability must run before any pending microtask of the
// user's module (e.g. Mastra's storage warning) so that the logger tap sees the first log lines.
let getCurrentSpan = () => undefined;
function loadSpanContext() {
  import('@mastra/core/observability/context-storage')
    .then((mod) => {
      if (typeof mod.getCurrentSpan === 'function') getCurrentSpan = mod.getCurrentSpan;
    })
    .catch(() => {
      /* older @mastra/core: logs are written without trace ids */
    });
}

function currentTraceIds() {
  try {
    const span = getCurrentSpan?.();
    if (span?.traceId) return { traceId: String(span.traceId), spanId: span.id ? String(span.id) : null };
  } catch {
    /* ignore */
  }
  return { traceId: null, spanId: null };
}

// Logger calls written by the tap, remembered briefly so that the same call, when Mastra's logger
// adapter also exports it as an observability log event, is not written twice.
const recentTapped = new Map(); // key -> [timestamps]
const TAP_DEDUPE_MS = 5000;

function tapKey(level, message) {
  return `${String(level).toLowerCase()}|${typeof message === 'string' ? message : ''}`;
}

function rememberTapped(level, message) {
  const key = tapKey(level, message);
  const now = Date.now();
  const list = (recentTapped.get(key) ?? []).filter((t) => now - t < TAP_DEDUPE_MS);
  list.push(now);
  recentTapped.set(key, list);
  if (recentTapped.size > 1000) recentTapped.delete(recentTapped.keys().next().value);
}

/** True (and forgotten) when the tap already wrote this logger call. */
export function consumeTapped(level, message) {
  const key = tapKey(level, message);
  const now = Date.now();
  const list = (recentTapped.get(key) ?? []).filter((t) => now - t < TAP_DEDUPE_MS);
  if (!list.length) {
    recentTapped.delete(key);
    return false;
  }
  list.shift();
  if (list.length) recentTapped.set(key, list);
  else recentTapped.delete(key);
  return true;
}

const LOG_LEVEL_ORDER = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

function warn(msg) {
  process.stderr.write(`[mastra-admin] ${msg}\n`);
}

export class FileExporter extends BaseExporter {
  name = 'mastra-admin-file';

  constructor({ files, stamp, secretValues }) {
    super({});
    this.files = files;
    this.stamp = stamp;
    this.secretValues = secretValues;
  }

  #write(makeRecord) {
    try {
      this.files.write(makeRecord());
    } catch (e) {
      warn(`dropping a record: ${e?.message ?? e}`);
    }
  }

  async _exportTracingEvent(event) {
    if (event?.type !== 'span_ended' || !event.exportedSpan) return;
    this.#write(() => spanToRecord(event.exportedSpan, this.stamp, { secretValues: this.secretValues }));
  }

  // Structured logs from Mastra's observability logging API (loggerVNext, tool `observe.log`).
  onLogEvent(event) {
    if (!event?.log) return;
    if (consumeTapped(event.log.level, event.log.message)) return;
    this.#write(() => logToRecord(event.log, this.stamp, { secretValues: this.secretValues, source: 'observability' }));
  }

  onMetricEvent(event) {
    if (!event?.metric) return;
    this.#write(() => metricToRecord(event.metric, this.stamp, { secretValues: this.secretValues }));
  }

  onScoreEvent(event) {
    if (!event?.score) return;
    this.#write(() => scoreToRecord(event.score, this.stamp, { secretValues: this.secretValues }));
  }

  async flush() {}

  async shutdown() {}
}

/** The exported value of a module that looks like a Mastra instance. */
export function findMastra(mod, preferredName) {
  const looksLikeMastra = (v) =>
    v && typeof v === 'object' && typeof v.getAgent === 'function' && typeof v.getLogger === 'function';
  if (preferredName && looksLikeMastra(mod?.[preferredName])) return mod[preferredName];
  if (looksLikeMastra(mod?.mastra)) return mod.mastra;
  for (const v of Object.values(mod ?? {})) if (looksLikeMastra(v)) return v;
  return null;
}

/**
 * Proxy around the Mastra logger: every debug/info/warn/error call at or above
 * MASTRA_ADMIN_LOG_LEVEL (default info) becomes a `kind: "log"` record; the call is forwarded to
 * the original logger with sensitive data redacted, so secrets do not reach stdout either.
 */
export function tapLogger(logger, { files, stamp, secretValues, redactArgs, minLevel }) {
  const min = LOG_LEVEL_ORDER[minLevel] ?? LOG_LEVEL_ORDER.info;
  const levels = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
  const wrapped = new Map();
  return new Proxy(logger, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, target);
      if (typeof prop === 'string' && levels.has(prop) && typeof value === 'function') {
        if (!wrapped.has(prop)) {
          wrapped.set(prop, function (message, ...args) {
            if ((LOG_LEVEL_ORDER[prop] ?? 0) >= min) {
              rememberTapped(prop, message);
              try {
                files.write(
                  logToRecord(
                    { level: prop, message, timestamp: new Date(), attributes: logArgsToAttributes(args), ...currentTraceIds() },
                    stamp,
                    { secretValues, source: 'logger' },
                  ),
                );
              } catch (e) {
                warn(`dropping a log record: ${e?.message ?? e}`);
              }
            }
            return value.apply(target, redactArgs([message, ...args]));
          });
        }
        return wrapped.get(prop);
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

let installed = null;

/**
 * Install mastra-admin observability on the user's `mastra` instance. Never throws: a failure
 * leaves the server running without injected observability and says so on stderr.
 */
export async function installObservability({ module, exportName, buildStamp }) {
  if (installed) return installed;
  loadSpanContext();
  const stamp = resolveStamp(buildStamp ?? {});
  const secretValues = secretValuesFromEnv();
  const obsDir = resolveObservabilityDir();
  const rotation = rotationSettings();
  const files = new ObservabilityFiles(obsDir, rotation);
  files.startTimer(rotationTickMs(rotation));

  // Flush and rotate on the way out. Mastra's own SIGTERM/SIGINT handler drains the server and
  // calls process.exit; when nobody else handles the signal, we exit ourselves.
  let closed = false;
  const closeFiles = () => {
    if (closed) return;
    closed = true;
    try {
      files.closeAll();
    } catch (e) {
      warn(`closing observability files failed: ${e?.message ?? e}`);
    }
  };
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      try {
        for (const f of Object.values(files.files)) f.rotate();
      } catch (e) {
        warn(`rotating on ${signal} failed: ${e?.message ?? e}`);
      }
      if (process.listenerCount(signal) <= 1) {
        closeFiles();
        process.exit(signal === 'SIGINT' ? 130 : 143);
      } else {
        // The server's own handler exits; make sure we do not hang forever if it does not.
        setTimeout(() => {
          closeFiles();
          process.exit(0);
        }, Number(process.env.MASTRA_ADMIN_SHUTDOWN_GRACE_MS ?? 20000)).unref();
      }
    });
  }
  process.on('exit', closeFiles);

  const mastra = findMastra(module, exportName);
  if (!mastra) {
    warn('no Mastra instance found in the build output; observability not injected');
    installed = { files, stamp, mastra: null };
    return installed;
  }

  const redactArgs = (args) => args.map((a) => redact(a, { secretValues }));
  try {
    const logger = mastra.getLogger();
    if (logger && typeof mastra.setLogger === 'function') {
      mastra.setLogger({
        logger: tapLogger(logger, {
          files,
          stamp,
          secretValues,
          redactArgs,
          minLevel: (process.env.MASTRA_ADMIN_LOG_LEVEL ?? 'info').toLowerCase(),
        }),
      });
    }
  } catch (e) {
    warn(`logger tap not installed: ${e?.message ?? e}`);
  }

  const exporter = new FileExporter({ files, stamp, secretValues });
  try {
    if (typeof mastra.registerExporter !== 'function') throw new Error('this @mastra/core has no registerExporter');
    const instance = new DefaultObservabilityInstance({
      name: 'mastra-admin',
      serviceName: stamp.serviceName,
      sampling: { type: 'always' },
      exporters: [],
      spanOutputProcessors: [new SensitiveDataFilter()],
    });
    const entrypoint = new Observability({});
    mastra.registerExporter(exporter, instance, entrypoint);
  } catch (e) {
    warn(`span exporter not registered: ${e?.message ?? e}`);
  }
  installed = { files, stamp, mastra, exporter };
  return installed;
}
