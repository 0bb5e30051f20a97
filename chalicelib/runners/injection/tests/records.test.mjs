// node --test: the pure record logic of the injected runtime (no @mastra imports).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import {
  REDACTED,
  RotatingJsonlFile,
  ObservabilityFiles,
  isSensitiveKey,
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
  utcStamp,
} from '../runtime/records.mjs';
import { sampleSpans, STAMP } from './samples.mjs';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ma-records-'));

test('every sensitive key shape is redacted, case-insensitively', () => {
  const keys = [
    'token', 'TOKEN', 'accessToken', 'refresh_token', 'x-auth-token',
    'secret', 'clientSecret', 'CLIENT_SECRET',
    'password', 'Password', 'db_password',
    'apiKey', 'api_key', 'API_KEY', 'api-key', 'Api Key', 'x-api-key', 'openaiApiKey',
    'authorization', 'Authorization', 'proxy-authorization',
    'cookie', 'Cookie', 'set-cookie',
  ];
  for (const k of keys) {
    assert.equal(isSensitiveKey(k), true, k);
    assert.deepEqual(redact({ [k]: 'hunter2' }), { [k]: REDACTED }, k);
  }
});

test('ordinary keys, including token counters, are kept', () => {
  for (const k of ['inputTokens', 'outputTokens', 'totalTokens', 'maxTokens', 'city', 'tokenizer', 'keyboard', 'monkey']) {
    assert.equal(isSensitiveKey(k), false, k);
  }
  const usage = { inputTokens: 20, outputTokens: 10, totalTokens: 30 };
  assert.deepEqual(redact({ usage }), { usage });
});

test('redaction is recursive through objects, arrays, Maps, errors and JSON text', () => {
  const input = {
    headers: { Authorization: 'Bearer abc', accept: 'json' },
    messages: [{ role: 'user', content: 'hi', metadata: { apiKey: 'k1' } }],
    map: new Map([['password', 'p'], ['ok', 1]]),
    args: '{"city":"Paris","apiKey":"sk-live-123"}',
    nested: { deeper: { list: [{ secret: 's' }, 'plain'] } },
    when: new Date('2026-11-23T12:00:00Z'),
    big: 10n,
  };
  const out = redact(input);
  assert.equal(out.headers.Authorization, REDACTED);
  assert.equal(out.headers.accept, 'json');
  assert.equal(out.messages[0].metadata.apiKey, REDACTED);
  assert.equal(out.messages[0].content, 'hi');
  assert.deepEqual(out.map, { password: REDACTED, ok: 1 });
  assert.deepEqual(JSON.parse(out.args), { city: 'Paris', apiKey: REDACTED });
  assert.equal(out.nested.deeper.list[0].secret, REDACTED);
  assert.equal(out.nested.deeper.list[1], 'plain');
  assert.equal(out.when, '2026-11-23T12:00:00.000Z');
  assert.equal(out.big, '10');
  assert.equal(input.headers.Authorization, 'Bearer abc', 'the input is not mutated');
});

test('cycles do not hang', () => {
  const a = { name: 'a' };
  a.self = a;
  assert.deepEqual(redact(a), { name: 'a', self: '[Circular]' });
});

test('values of secret environment variables are scrubbed from any string', () => {
  const env = { WEATHER_API_KEY: 'sk-weather-123456', STRIPE_KEY: 'rk_live_abcdef', HOME: '/root', SHORT_TOKEN: 'abc', MY_CUSTOM: 'custom-value-1', MASTRA_ADMIN_REDACT_ENV: 'MY_CUSTOM' };
  const secrets = secretValuesFromEnv(env);
  assert.deepEqual(new Set(secrets), new Set(['sk-weather-123456', 'rk_live_abcdef', 'custom-value-1']));
  const out = redact({ note: 'key is sk-weather-123456!', home: '/root', c: 'custom-value-1' }, { secretValues: secrets });
  assert.equal(out.note, `key is ${REDACTED}!`);
  assert.equal(out.home, '/root');
  assert.equal(out.c, REDACTED);
});

test('stamps come from the build and can be overridden by non-blank env vars', () => {
  const build = { teamId: 't', projectId: 'p', deploymentId: 'd', buildId: 'b', commit: 'c', environment: 'staging', serviceName: 's' };
  assert.deepEqual(resolveStamp(build, {}), build);
  const over = resolveStamp(build, { MASTRA_ADMIN_ENVIRONMENT: 'production', MASTRA_ADMIN_DEPLOYMENT_ID: 'd2', MASTRA_ADMIN_TEAM_ID: '   ' });
  assert.equal(over.environment, 'production');
  assert.equal(over.deploymentId, 'd2');
  assert.equal(over.teamId, 't', 'blank env values fall through');
  const bare = resolveStamp({ teamId: 't', projectId: 'p', deploymentId: 'd', buildId: 'b' }, {});
  assert.equal(bare.environment, 'development');
  assert.equal(bare.commit, null);
  assert.equal(bare.serviceName, 'mastra');
});

test('a model_generation span maps to a contract record with model and tokens', () => {
  const [gen] = sampleSpans().filter((s) => s.type === 'model_generation');
  const r = spanToRecord(gen, STAMP, { secretValues: ['sk-planted-secret'] });
  assert.equal(r.schemaVersion, 1);
  assert.equal(r.kind, 'span');
  assert.equal(r.recordId, `${gen.traceId}:${gen.id}`);
  assert.equal(r.spanType, 'model_generation');
  assert.equal(r.model, 'gpt-4o-mini');
  assert.equal(r.provider, 'openai');
  assert.equal(r.inputTokens, 40);
  assert.equal(r.outputTokens, 20);
  assert.equal(r.totalTokens, 60);
  assert.equal(r.durationMs, 80);
  assert.equal(r.status, 'ok');
  assert.equal(r.timestamp, r.startTime);
  assert.equal(r.startTime, '2026-11-23T12:00:00.100Z');
  for (const k of Object.keys(STAMP)) assert.equal(r[k], STAMP[k], k);
  assert.equal(typeof r.input, 'string');
  assert.equal(typeof r.output, 'string');
  assert.equal(JSON.parse(r.output).toolCalls[0].args.apiKey, REDACTED);
  assert.equal(r.metadata.authorization, REDACTED);
  assert.ok(!JSON.stringify(r).includes('sk-planted-secret'));
  assert.ok(!JSON.stringify(r).includes('Bearer leaked'));
});

test('spans: types lower-cased, root flag, errors, absent input', () => {
  const spans = sampleSpans();
  const byType = Object.fromEntries(spans.map((s) => [s.type, spanToRecord(s, STAMP)]));
  assert.equal(byType.agent_run.isRoot, true);
  assert.equal(byType.agent_run.parentSpanId, null);
  assert.equal(byType.tool_call.isRoot, false);
  assert.equal(byType.tool_call.model, null);
  assert.equal(byType.tool_call.inputTokens, null);
  assert.equal(JSON.parse(byType.tool_call.input).apiKey, REDACTED);
  const failed = spanToRecord({ ...spans[0], type: 'WORKFLOW_STEP', errorInfo: { message: 'boom' }, input: undefined }, STAMP);
  assert.equal(failed.spanType, 'workflow_step');
  assert.equal(failed.status, 'error');
  assert.equal(failed.errorMessage, 'boom');
  assert.equal(failed.input, null);
});

test('legacy usage shapes (promptTokens/completionTokens, {total}) are understood', () => {
  const base = sampleSpans().find((s) => s.type === 'model_generation');
  const legacy = spanToRecord({ ...base, attributes: { model: 'm', usage: { promptTokens: 3, completionTokens: 4 } } }, STAMP);
  assert.deepEqual([legacy.inputTokens, legacy.outputTokens, legacy.totalTokens], [3, 4, 7]);
  const v4 = spanToRecord({ ...base, attributes: { model: 'm', usage: { inputTokens: { total: 5 }, outputTokens: { total: 6 } } } }, STAMP);
  assert.deepEqual([v4.inputTokens, v4.outputTokens, v4.totalTokens], [5, 6, 11]);
});

test('logger calls become log records with redacted attributes', () => {
  const attrs = logArgsToAttributes([{ city: 'Paris', token: 'tok-1' }, 'extra', new Error('bad')]);
  const r = logToRecord({ level: 'INFO', message: 'fetching weather', attributes: attrs, traceId: 't1', spanId: 's1' }, STAMP);
  assert.equal(r.kind, 'log');
  assert.equal(r.level, 'info');
  assert.equal(r.message, 'fetching weather');
  assert.equal(r.attributes.city, 'Paris');
  assert.equal(r.attributes.token, REDACTED);
  assert.deepEqual(r.attributes.args, ['extra']);
  assert.equal(r.attributes.error.message, 'bad');
  assert.equal(r.traceId, 't1');
  assert.equal(r.source, 'logger');
  assert.match(r.recordId, /^[0-9a-f-]{36}$/);
  assert.equal(logToRecord({ level: 'warning', message: 'x' }, STAMP).level, 'warn');
  assert.equal(logToRecord({ level: 'weird', message: 'x' }, STAMP).level, 'info');
});

test('metrics and scores map to their kinds', () => {
  const m = metricToRecord({ metricId: 'm1', timestamp: new Date(), name: 'mastra_tool_duration_ms', value: 4, labels: { status: 'ok' } }, STAMP);
  assert.equal(m.kind, 'metric');
  assert.equal(m.metricType, 'histogram');
  assert.equal(m.recordId, 'm1');
  assert.equal(metricToRecord({ name: 'mastra_model_total_input_tokens', value: 40, labels: {} }, STAMP).metricType, 'counter');
  const s = scoreToRecord({ scoreId: 's1', timestamp: new Date(), traceId: 't', scorerId: 'relevance', score: 0.5, reason: 'fine' }, STAMP);
  assert.equal(s.kind, 'score');
  assert.equal(s.scorerName, 'relevance');
  assert.equal(s.score, 0.5);
});

test('rotation by size keeps whole lines in closed files', () => {
  const dir = tmp();
  const f = new RotatingJsonlFile(dir, { maxBytes: 1000, maxAgeMs: 60_000 });
  for (let i = 0; i < 200; i++) f.append({ i, pad: 'x'.repeat(i % 37) });
  f.close();
  const closed = fs.readdirSync(path.join(dir, 'closed'));
  assert.ok(closed.length > 5, `rotated ${closed.length} times`);
  const seen = [];
  for (const name of closed) {
    assert.match(name, /^\d{8}T\d{6}Z_[0-9a-f-]{36}\.jsonl$/);
    const text = fs.readFileSync(path.join(dir, 'closed', name), 'utf8');
    assert.ok(text.endsWith('\n'));
    assert.ok(Buffer.byteLength(text) <= 1000);
    for (const line of text.trimEnd().split('\n')) seen.push(JSON.parse(line).i);
  }
  assert.deepEqual(seen.sort((a, b) => a - b), [...Array(200).keys()]);
  assert.equal(fs.existsSync(path.join(dir, 'current.jsonl')), false);
});

test('rotation by age only when non-empty; a line larger than maxBytes still stays whole', () => {
  const dir = tmp();
  let now = 1_000;
  const f = new RotatingJsonlFile(dir, { maxBytes: 50, maxAgeMs: 30_000, now: () => now });
  now += 60_000;
  assert.equal(f.maybeRotateByAge(), null, 'empty file is not rotated');
  f.append({ a: 1 });
  now += 29_000;
  assert.equal(f.maybeRotateByAge(), null);
  now += 1_000;
  const closed = f.maybeRotateByAge();
  assert.ok(closed && fs.existsSync(closed));
  f.append({ big: 'y'.repeat(200) });
  const files = fs.readdirSync(path.join(dir, 'closed'));
  assert.equal(files.length, 2, 'an oversized line is written whole, then rotated');
  for (const name of files) JSON.parse(fs.readFileSync(path.join(dir, 'closed', name), 'utf8'));
});

test('a current.jsonl left by a crashed process is closed without its half line', () => {
  const dir = tmp();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'current.jsonl'), '{"a":1}\n{"a":2}\n{"a":');
  const f = new RotatingJsonlFile(dir, {});
  const [name] = fs.readdirSync(path.join(dir, 'closed'));
  assert.equal(fs.readFileSync(path.join(dir, 'closed', name), 'utf8'), '{"a":1}\n{"a":2}\n');
  assert.equal(fs.existsSync(path.join(dir, 'current.jsonl')), false);
  f.close();
});

test('ObservabilityFiles routes records by kind and closes them all', () => {
  const dir = tmp();
  const files = new ObservabilityFiles(dir, { maxBytes: 1 << 20, maxAgeMs: 30_000 });
  for (const s of sampleSpans()) files.write(spanToRecord(s, STAMP));
  files.write(logToRecord({ level: 'info', message: 'hello' }, STAMP));
  assert.throws(() => files.write({ kind: 'nope' }));
  assert.equal(fs.readFileSync(path.join(dir, 'spans', 'current.jsonl'), 'utf8').trimEnd().split('\n').length, sampleSpans().length);
  const closed = files.closeAll();
  assert.equal(closed.length, 2);
  for (const k of ['spans', 'logs', 'metrics', 'scores']) assert.ok(fs.existsSync(path.join(dir, k, 'closed')));
});

test('settings and directories come from the environment', () => {
  assert.deepEqual(rotationSettings({}), { maxBytes: 5 * 1024 * 1024, maxAgeMs: 2000 });
  assert.deepEqual(rotationSettings({ MASTRA_ADMIN_ROTATE_SECONDS: '0.5' }), { maxBytes: 5 * 1024 * 1024, maxAgeMs: 500 });
  assert.deepEqual(rotationSettings({ MASTRA_ADMIN_ROTATE_BYTES: '1024', MASTRA_ADMIN_ROTATE_SECONDS: '2' }), { maxBytes: 1024, maxAgeMs: 2000 });
  assert.deepEqual(rotationSettings({ MASTRA_ADMIN_ROTATE_BYTES: 'junk', MASTRA_ADMIN_ROTATE_SECONDS: '-1' }), { maxBytes: 5 * 1024 * 1024, maxAgeMs: 2000 });
  // The age check runs often enough that a segment closes soon after its limit, never in a busy loop.
  assert.equal(rotationTickMs({ maxAgeMs: 2000 }), 250);
  assert.equal(rotationTickMs({ maxAgeMs: 100 }), 100);
  assert.equal(rotationTickMs({ maxAgeMs: 60_000 }), 1000);
  assert.equal(resolveObservabilityDir({}, '/srv/app'), '/srv/app/observability');
  assert.equal(resolveObservabilityDir({ MASTRA_ADMIN_OBSERVABILITY_DIR: '/var/obs' }, '/srv/app'), '/var/obs');
  assert.equal(utcStamp(new Date('2026-11-23T01:02:03.456Z')), '20261123T010203Z');
});
