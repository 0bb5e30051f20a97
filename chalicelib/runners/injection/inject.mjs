#!/usr/bin/env node
// mastra-admin build step "inject" (the AdminBundler): runs after `mastra build`, on the build
// output, in an isolated copy of the project.
//
//   node inject.mjs --project <projectDir> --output <outputDir> --stamp <stamp.json> [--packages <node_modules>]
//
// Mastra project: writes <output>/mastra-admin-entry.mjs (imports the built `mastra` instance,
// registers the JSONL file exporter and logger tap from <output>/mastra-admin/, then starts the
// server by importing the original index.mjs), makes @mastra/observability resolvable from the
// output (copied from --packages, default node_modules/ beside this script: what `npm ci` installed
// from package-lock.json here; npm install when the project's @mastra/core is outside that copy's
// peer range), and writes <output>/mastra-admin.json. Other projects: only the manifest. Writes
// nothing outside <output>.
// Exit codes: 0 done, 2 bad arguments or input, 3 injection failed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RUNTIME_DIR = path.join(HERE, 'runtime');
const OBSERVABILITY = path.join('@mastra', 'observability');
export const CONTRACT = 1;
export const ENTRY = 'mastra-admin-entry.mjs';
export const MANIFEST = 'mastra-admin.json';
export const RUNTIME_SUBDIR = 'mastra-admin';
const STAMP_KEYS = ['teamId', 'projectId', 'deploymentId', 'buildId', 'commit', 'environment', 'serviceName'];
const REQUIRED_STAMP = ['teamId', 'projectId', 'deploymentId', 'buildId'];

class InjectError extends Error {
  constructor(message, code = 3) {
    super(message);
    this.code = code;
  }
}

function log(msg) {
  process.stdout.write(`[mastra-admin inject] ${msg}\n`);
}

export function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--(project|output|stamp|packages|manifest-extra)(?:=(.*))?$/.exec(a);
    if (!m) throw new InjectError(`unknown argument ${a}`, 2);
    out[m[1]] = m[2] ?? argv[++i];
    if (!out[m[1]]) throw new InjectError(`--${m[1]} needs a value`, 2);
  }
  for (const k of ['project', 'output', 'stamp']) if (!out[k]) throw new InjectError(`--${k} is required`, 2);
  return {
    project: path.resolve(out.project),
    output: path.resolve(out.output),
    stamp: path.resolve(out.stamp),
    packages: path.resolve(out.packages ?? path.join(HERE, 'node_modules')),
    // What the build decided and the server needs (Node major, package manager, a start override).
    extra: out['manifest-extra'] ? parseExtra(out['manifest-extra']) : {},
  };
}

function parseExtra(text) {
  let extra;
  try {
    extra = JSON.parse(text);
  } catch (e) {
    throw new InjectError(`--manifest-extra is not JSON: ${e.message}`, 2);
  }
  if (!extra || typeof extra !== 'object' || Array.isArray(extra)) throw new InjectError('--manifest-extra must be an object', 2);
  return extra;
}

function readJson(file, what) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InjectError(`cannot read ${what} ${file}: ${e.message}`, 2);
  }
}

export function readStamp(file) {
  const raw = readJson(file, 'stamp');
  if (!raw || typeof raw !== 'object') throw new InjectError('stamp must be a JSON object', 2);
  const stamp = {};
  for (const k of STAMP_KEYS) {
    const v = raw[k];
    stamp[k] = typeof v === 'string' && v.trim() ? v.trim() : null;
  }
  const missing = REQUIRED_STAMP.filter((k) => !stamp[k]);
  if (missing.length) throw new InjectError(`stamp lacks ${missing.join(', ')}`, 2);
  stamp.environment ??= 'development';
  return stamp;
}

export function isMastraProject(pkg) {
  const deps = { ...(pkg?.dependencies ?? {}), ...(pkg?.devDependencies ?? {}) };
  return Boolean(deps.mastra || deps['@mastra/core']);
}

/** How to start a project that is not a Mastra project. */
export function plainStart(pkg) {
  if (pkg?.scripts?.start) return { entry: null, start: ['npm', 'start'] };
  const main = typeof pkg?.main === 'string' && pkg.main.trim() ? pkg.main.trim() : 'index.js';
  return { entry: main, start: ['node', main] };
}

function writeFileAtomic(file, text) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function writeManifest(output, manifest) {
  fs.mkdirSync(output, { recursive: true });
  writeFileAtomic(path.join(output, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
}

/**
 * The module of the build output that exports the `mastra` instance, and the export name, read
 * from index.mjs's `import { <name> as mastra } from './<module>.mjs'` (mastra 1.x emits
 * `import { m as mastra } from './mastra.mjs'`).
 */
export function locateMastraModule(output) {
  const indexFile = path.join(output, 'index.mjs');
  if (!fs.existsSync(indexFile)) throw new InjectError(`${indexFile} not found: run \`mastra build\` first`, 2);
  const head = fs.readFileSync(indexFile, 'utf8').slice(0, 200_000);
  const re = /import\s*\{([^}]*)\}\s*from\s*['"](\.\/[^'"]+\.m?js)['"]/g;
  for (let m; (m = re.exec(head)); ) {
    for (const spec of m[1].split(',')) {
      const parts = spec.trim().split(/\s+as\s+/);
      const local = (parts[1] ?? parts[0]).trim();
      if (local === 'mastra') {
        const moduleFile = m[2];
        if (!fs.existsSync(path.join(output, moduleFile))) continue;
        return { module: moduleFile, exportName: parts[0].trim() };
      }
    }
  }
  if (fs.existsSync(path.join(output, 'mastra.mjs'))) return { module: './mastra.mjs', exportName: null };
  throw new InjectError(
    'the build output has no separate module exporting `mastra` (index.mjs does not import it); ' +
      'this Mastra version is not supported by the injector',
  );
}

function readVersion(pkgJson) {
  try {
    return JSON.parse(fs.readFileSync(pkgJson, 'utf8')).version ?? null;
  } catch {
    return null;
  }
}

function parseVersion(v) {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(String(v ?? ''));
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

function compare(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/**
 * Whether `version` satisfies a peer range made of `||` alternatives of comparators
 * (`>=1.16.0-0 <2.0.0-0`, `=1.2.3`, `1.2.3`); prerelease tags are ignored. Any other syntax
 * (`^`, `~`, `x`) does not match, which only sends the build to `npm install`.
 */
export function satisfies(version, range) {
  const v = parseVersion(version);
  if (!v || typeof range !== 'string') return false;
  return range.split('||').some((alternative) => {
    const comparators = alternative.trim().split(/\s+/).filter(Boolean);
    return comparators.length > 0 && comparators.every((c) => {
      const m = /^(>=|<=|>|<|=)?v?(\d+\.\d+\.\d+)(?:-[0-9A-Za-z.-]+)?$/.exec(c);
      if (!m) return false;
      const d = compare(v, parseVersion(m[2]));
      return { '>=': d >= 0, '<=': d <= 0, '>': d > 0, '<': d < 0 }[m[1]] ?? d === 0;
    });
  });
}

function copyDir(src, dst) {
  fs.mkdirSync(dst, { recursive: true });
  for (const ent of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, ent.name);
    const d = path.join(dst, ent.name);
    if (ent.isDirectory()) copyDir(s, d);
    else fs.copyFileSync(s, d);
  }
}

/** Make `@mastra/observability` resolvable from the output; returns how. */
function ensureObservability(output, packages) {
  const target = path.join(output, 'node_modules', OBSERVABILITY);
  const coreVersion = readVersion(path.join(output, 'node_modules', '@mastra', 'core', 'package.json'));
  if (!coreVersion) throw new InjectError(`${output}/node_modules/@mastra/core is missing: was the build output installed?`);
  const present = readVersion(path.join(target, 'package.json'));
  if (present) return { how: 'present', version: present, coreVersion };
  const pinned = path.join(packages, OBSERVABILITY);
  const pinnedPkg = fs.existsSync(path.join(pinned, 'package.json')) ? readJson(path.join(pinned, 'package.json'), 'package.json') : null;
  if (!pinnedPkg) throw new InjectError(`${pinned} is missing: install the pinned packages first (npm ci --prefix ${HERE})`);
  const peerRange = pinnedPkg.peerDependencies?.['@mastra/core'];
  if (satisfies(coreVersion, peerRange)) {
    copyDir(pinned, target);
    return { how: 'lockfile', version: pinnedPkg.version, coreVersion };
  }
  // Outside the pinned copy's peer range: let npm pick a release for this core (needs the registry).
  const spec = `@mastra/observability@${parseVersion(coreVersion)?.[0] === 1 ? '1' : 'latest'}`;
  log(`@mastra/core ${coreVersion} is outside ${pinnedPkg.version}'s peer range ${peerRange}; npm install ${spec}`);
  const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', spec], {
    cwd: output,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: process.env,
  });
  const installed = readVersion(path.join(target, 'package.json'));
  if (r.status !== 0 || !installed) throw new InjectError(`npm install ${spec} failed (exit ${r.status})`);
  return { how: 'npm', version: installed, coreVersion };
}

export function entrySource({ module, exportName, stamp }) {
  return `// Generated by mastra-admin (inject.mjs). Do not edit.
// Registers mastra-admin observability on the built \`mastra\` instance, then starts the server
// exactly as the original index.mjs does (same module graph, so the instance is shared).
import * as userMastraModule from ${JSON.stringify(module)};
import { installObservability } from './${RUNTIME_SUBDIR}/runtime.mjs';

const BUILD_STAMP = ${JSON.stringify(stamp, null, 2)};

await installObservability({ module: userMastraModule, exportName: ${JSON.stringify(exportName)}, buildStamp: BUILD_STAMP });
await import('./index.mjs');
`;
}

export function inject({ project, output, stamp: stampFile, packages, extra = {} }) {
  const stamp = readStamp(stampFile);
  const pkgFile = path.join(project, 'package.json');
  const pkg = fs.existsSync(pkgFile) ? readJson(pkgFile, 'package.json') : {};
  if (!stamp.serviceName) stamp.serviceName = typeof pkg.name === 'string' && pkg.name ? pkg.name : 'mastra';

  if (!isMastraProject(pkg)) {
    const { entry, start } = plainStart(pkg);
    writeManifest(output, { contract: CONTRACT, entry, start, mastra: false, stamp, ...extra });
    log(`not a Mastra project (no mastra or @mastra/core dependency): observability was not injected; start = ${start.join(' ')}`);
    return { mastra: false };
  }

  if (!fs.existsSync(output)) throw new InjectError(`output directory ${output} does not exist: run \`mastra build\` first`, 2);
  const located = locateMastraModule(output);
  const obs = ensureObservability(output, packages);

  const runtimeTarget = path.join(output, RUNTIME_SUBDIR);
  fs.rmSync(runtimeTarget, { recursive: true, force: true });
  fs.mkdirSync(runtimeTarget, { recursive: true });
  for (const f of ['records.mjs', 'runtime.mjs']) fs.copyFileSync(path.join(RUNTIME_DIR, f), path.join(runtimeTarget, f));

  writeFileAtomic(path.join(output, ENTRY), entrySource({ ...located, stamp }));
  writeManifest(output, {
    contract: CONTRACT,
    entry: ENTRY,
    start: ['node', ENTRY],
    mastra: true,
    stamp,
    mastraModule: located.module,
    mastraExport: located.exportName,
    coreVersion: obs.coreVersion,
    observability: { package: '@mastra/observability', version: obs.version, source: obs.how },
    ...extra,
  });
  log(
    `observability injected: ${ENTRY} -> ${located.module} (export ${located.exportName ?? '?'}), ` +
      `@mastra/core ${obs.coreVersion}, @mastra/observability ${obs.version} (${obs.how})`,
  );
  return { mastra: true, ...located, observability: obs };
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    inject(parseArgs(process.argv.slice(2)));
  } catch (e) {
    process.stderr.write(`[mastra-admin inject] error: ${e.message}\n`);
    process.exit(e instanceof InjectError ? e.code : 3);
  }
}
