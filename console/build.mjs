// Bundles src/ into dist/ with esbuild (the npm package, from the lockfile). Run by build.py, which passes
// the role → permission matrix of chalicelib/auth/rbac.py as RBAC_MATRIX (one source for both sides).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const out = 'dist';
rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}/assets`, { recursive: true });
await build({
  entryPoints: { app: 'src/main.jsx', shell: 'src/shell.js' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: `${out}/assets`,
  loader: { '.css': 'css' },
  define: { RBAC_MATRIX: process.env.RBAC_MATRIX || '{}' },
  logLevel: 'warning',
});
copyFileSync('index.html', `${out}/index.html`);
// The empty app shell bench/console.py measures against: the same document with the shell's bundle.
writeFileSync(`${out}/shell.html`, readFileSync('index.html', 'utf8').replaceAll('assets/app.', 'assets/shell.'));
