// Entry of every ECS server, fetched from S3 and imported by the container's command (LOADER in ecs_deploy.py; public Node 22 image), run by EcsDeployRunner.
//
// 1. Downloads the build artifact from MASTRA_ADMIN_ARTIFACT_URL (presigned), checks
//    MASTRA_ADMIN_ARTIFACT_SHA256, unpacks it into MASTRA_ADMIN_APP_DIR (/srv/app).
// 2. Starts what mastra-admin.json says, with the environment minus AWS_* and the artifact and boot URLs
//    (user code does not get the task role's credentials endpoint handed to it).
// 3. Ships closed observability files as they close (a listing every MASTRA_ADMIN_SHIP_SECONDS, 0.5;
//    a PUT only per closed file) and, at exit, the rest
//    (a leftover current.jsonl: whole lines only) to
//    s3://$MASTRA_ADMIN_OBSERVABILITY_BUCKET/observability/{kind}/{team}/{project}/{deployment}/{file},
//    signing with SigV4 (task role credentials from the container endpoint, or AWS_* in tests).
//    SIGTERM is forwarded to the server; the container exits with its code.
// Standard library only.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const env = process.env;
const APP = env.MASTRA_ADMIN_APP_DIR || '/srv/app';
const KINDS = ['spans', 'logs', 'metrics', 'scores'];
const REGION = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
const log = (msg) => console.error(`[mastra-admin boot] ${msg}`);

async function fetchArtifact() {
  const res = await fetch(env.MASTRA_ADMIN_ARTIFACT_URL);
  if (!res.ok) throw new Error(`artifact download: ${res.status}`);
  const body = Buffer.from(await res.arrayBuffer());
  const digest = crypto.createHash('sha256').update(body).digest('hex');
  if (env.MASTRA_ADMIN_ARTIFACT_SHA256 && digest !== env.MASTRA_ADMIN_ARTIFACT_SHA256) {
    throw new Error(`artifact checksum ${digest} != ${env.MASTRA_ADMIN_ARTIFACT_SHA256}`);
  }
  fs.mkdirSync(APP, { recursive: true });
  const tarball = path.join(path.dirname(APP), 'artifact.tgz');
  fs.writeFileSync(tarball, body);
  const out = spawnSync('tar', ['xzf', tarball, '-C', APP], { stdio: 'inherit' });
  if (out.status !== 0) throw new Error(`tar exited ${out.status}`);
  fs.rmSync(tarball, { force: true });
  log(`artifact unpacked (${body.length} bytes, sha256 ${digest})`);
}

let cached = null;
async function credentials() {
  if (env.AWS_ACCESS_KEY_ID) {
    return { key: env.AWS_ACCESS_KEY_ID, secret: env.AWS_SECRET_ACCESS_KEY, token: env.AWS_SESSION_TOKEN };
  }
  if (cached && cached.expires - Date.now() > 5 * 60 * 1000) return cached;
  const res = await fetch(`http://169.254.170.2${env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI}`);
  const c = await res.json();
  cached = { key: c.AccessKeyId, secret: c.SecretAccessKey, token: c.Token, expires: Date.parse(c.Expiration) };
  return cached;
}

const sha256hex = (data) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

async function putObject(bucket, key, body) {
  const creds = await credentials();
  const encoded = key.split('/').map(encodeURIComponent).join('/');
  const url = env.MASTRA_ADMIN_S3_ENDPOINT
    ? new URL(`${env.MASTRA_ADMIN_S3_ENDPOINT.replace(/\/$/, '')}/${bucket}/${encoded}`)
    : new URL(`https://${bucket}.s3.${REGION}.amazonaws.com/${encoded}`);
  const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const payload = sha256hex(body);
  const headers = { host: url.host, 'x-amz-content-sha256': payload, 'x-amz-date': amzDate };
  if (creds.token) headers['x-amz-security-token'] = creds.token;
  const names = Object.keys(headers).sort();
  const canonical = ['PUT', url.pathname, '', names.map((h) => `${h}:${headers[h]}\n`).join(''), names.join(';'), payload].join('\n');
  const scope = `${day}/${REGION}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonical)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${creds.secret}`, day), REGION), 's3'), 'aws4_request');
  const signature = crypto.createHmac('sha256', signingKey).update(toSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.key}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  delete headers.host;
  const res = await fetch(url, { method: 'PUT', headers: { ...headers, 'content-type': 'application/x-ndjson' }, body });
  if (!res.ok) throw new Error(`PUT ${key}: ${res.status} ${(await res.text()).slice(0, 200)}`);
}

function obsDir() {
  return env.MASTRA_ADMIN_OBSERVABILITY_DIR || path.join(APP, 'observability');
}

function closeLeftover(kind) {
  const current = path.join(obsDir(), kind, 'current.jsonl');
  let data;
  try { data = fs.readFileSync(current); } catch { return; }
  const whole = data.subarray(0, data.lastIndexOf(10) + 1);
  if (whole.length) {
    const closed = path.join(obsDir(), kind, 'closed');
    fs.mkdirSync(closed, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '');
    fs.writeFileSync(path.join(closed, `${stamp}_${crypto.randomUUID()}.jsonl`), whole);
  }
  fs.rmSync(current, { force: true });
}

let shipping = Promise.resolve();
let pending = false; // a periodic pass already queued: the short timer never piles passes up
function ship(final = false) {
  if (!final && pending) return shipping;
  pending = true;
  shipping = shipping.then(async () => {
    pending = false;
    const bucket = env.MASTRA_ADMIN_OBSERVABILITY_BUCKET;
    if (!bucket) return;
    const prefix = env.MASTRA_ADMIN_OBSERVABILITY_PREFIX || 'observability';
    for (const kind of KINDS) {
      if (final) closeLeftover(kind);
      const closed = path.join(obsDir(), kind, 'closed');
      let files = [];
      try { files = fs.readdirSync(closed).filter((f) => f.endsWith('.jsonl')).sort(); } catch { continue; }
      for (const file of files) {
        const full = path.join(closed, file);
        const body = fs.readFileSync(full);
        if (body.length) {
          const key = [prefix, kind, env.MASTRA_ADMIN_TEAM_ID, env.MASTRA_ADMIN_PROJECT_ID,
            env.MASTRA_ADMIN_DEPLOYMENT_ID, file].join('/');
          try { await putObject(bucket, key, body); } catch (e) { log(`ship failed, will retry: ${e.message}`); continue; }
        }
        fs.rmSync(full, { force: true });
      }
    }
  });
  return shipping;
}

async function main() {
  if (env.MASTRA_ADMIN_ARTIFACT_URL) await fetchArtifact();
  const manifest = JSON.parse(fs.readFileSync(path.join(APP, 'mastra-admin.json'), 'utf8'));
  const [command, ...args] = manifest.start;
  const childEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('AWS_')
    && k !== 'MASTRA_ADMIN_ARTIFACT_URL' && k !== 'MASTRA_ADMIN_BOOT_URL' && k !== 'ECS_CONTAINER_METADATA_URI' && k !== 'ECS_CONTAINER_METADATA_URI_V4'));
  const child = spawn(command === 'node' ? process.execPath : command, args, { cwd: APP, env: childEnv, stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
  const timer = setInterval(() => ship(false), Number(env.MASTRA_ADMIN_SHIP_SECONDS || 0.5) * 1000);
  child.on('exit', async (code, signal) => {
    clearInterval(timer);
    await ship(true);
    log(`server exited (${signal || code}); observability shipped`);
    process.exit(code ?? (signal ? 128 + 15 : 1));
  });
}

main().catch((e) => { log(e.stack || String(e)); process.exit(1); });
