// Writes one of each record kind through the real writer into <dir> (then closes the files), so
// tests/unit/test_injected_writer.py can validate the lines against the JSON Schema.
//   node emit_samples.mjs <dir>
import {
  ObservabilityFiles,
  logArgsToAttributes,
  logToRecord,
  metricToRecord,
  scoreToRecord,
  spanToRecord,
} from '../runtime/records.mjs';
import { STAMP, sampleSpans } from './samples.mjs';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node emit_samples.mjs <dir>\n');
  process.exit(2);
}
const secretValues = ['sk-planted-secret'];
const files = new ObservabilityFiles(dir, { maxBytes: 1 << 20, maxAgeMs: 30_000 });
for (const span of sampleSpans()) files.write(spanToRecord(span, STAMP, { secretValues }));
files.write(spanToRecord({ ...sampleSpans()[2], id: 'e1', errorInfo: { message: 'tool failed' } }, { ...STAMP, commit: null }, { secretValues }));
files.write(
  logToRecord(
    { level: 'info', message: 'fetching weather', attributes: logArgsToAttributes([{ city: 'Paris', token: 'sk-planted-secret' }]), traceId: 't', spanId: 's' },
    STAMP,
    { secretValues },
  ),
);
files.write(logToRecord({ level: 'warn', message: 'no storage' }, STAMP, { secretValues }));
files.write(metricToRecord({ metricId: 'm1', timestamp: new Date(), name: 'mastra_model_duration_ms', value: 80, labels: { status: 'ok' } }, STAMP, { secretValues }));
files.write(scoreToRecord({ scoreId: 's1', timestamp: new Date(), traceId: 't', scorerId: 'relevance', score: 0.9, reason: 'ok' }, STAMP, { secretValues }));
process.stdout.write(JSON.stringify(files.closeAll()) + '\n');
