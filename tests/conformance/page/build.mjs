// Bundles the conformance page (React + the real @igniter-js/core client) into a static directory.
// Usage: node page/build.mjs [out dir]   (default: build/conformance-page, ignored by git)
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export async function buildPage(outDir) {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [path.join(here, 'main.jsx')],
    outfile: path.join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  await copyFile(path.join(here, 'index.html'), path.join(outDir, 'index.html'));
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildPage(path.resolve(process.argv[2] ?? path.join(here, '..', '..', '..', 'build', 'conformance-page')));
}
