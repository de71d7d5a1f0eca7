// Bundles the SPA into dist/ (and, with --tests, the unit tests into build-tests/).
import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';

const tests = process.argv.includes('--tests');
if (tests) {
  rmSync('build-tests', { recursive: true, force: true });
  const entryPoints = readdirSync('src', { recursive: true })
    .filter((f) => String(f).endsWith('.test.ts'))
    .map((f) => `src/${f}`);
  await build({
    entryPoints,
    outdir: 'build-tests',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
} else {
  rmSync('dist', { recursive: true, force: true });
  mkdirSync('dist/assets', { recursive: true });
  await build({
    entryPoints: ['src/main.ts'],
    outfile: 'dist/assets/app.js',
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
  cpSync('index.html', 'dist/index.html');
  cpSync('styles.css', 'dist/assets/styles.css');
}
