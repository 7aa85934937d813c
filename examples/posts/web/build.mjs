#!/usr/bin/env node
// Bundles the page (src/main.tsx, React, clients/js from source) with esbuild into a directory the
// posts server serves as is:  node build.mjs [--out <dir>]   (default: dist/)
// Without `npm ci` here (scripts/setup-web.sh) it says so, removes <dir>/index.html and exits 0, so
// the server falls back to the plain page in ../public.
import { copyFile, mkdir, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const clientSource = path.resolve(here, "../../../clients/js/src/index.ts");

/** Builds the page into `outDir`; resolves with `outDir`. Production React, minified, one file. */
export async function buildPage(outDir = path.join(here, "dist")) {
  const esbuild = await import("esbuild");
  await mkdir(outDir, { recursive: true });
  // The client is imported from source, and React always from this package: one copy of React.
  const resolveFromHere = {
    name: "resolve-from-web",
    setup(build) {
      build.onResolve({ filter: /^@igniter-cpp\/client$/ }, () => ({ path: clientSource }));
      build.onResolve({ filter: /^(react|react-dom|scheduler)(\/.*)?$/ }, (args) => {
        if (args.resolveDir.startsWith(here)) return undefined;
        return build.resolve(args.path, { kind: args.kind, resolveDir: here });
      });
    },
  };
  await esbuild.build({
    entryPoints: [path.join(here, "src/main.tsx")],
    outfile: path.join(outDir, "app.js"),
    bundle: true,
    format: "esm",
    target: "es2020",
    jsx: "automatic",
    minify: true,
    sourcemap: "linked",
    define: { "process.env.NODE_ENV": '"production"' },
    plugins: [resolveFromHere],
    logLevel: "warning",
  });
  await copyFile(path.join(here, "index.html"), path.join(outDir, "index.html"));
  // One stylesheet for this page and the plain fallback page in ../public.
  await copyFile(path.join(here, "..", "public", "style.css"), path.join(outDir, "style.css"));
  return outDir;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf("--out");
  const outDir = path.resolve(at > 0 ? process.argv[at + 1] : path.join(here, "dist"));
  if (!existsSync(path.join(here, "node_modules", "esbuild"))) {
    await rm(path.join(outDir, "index.html"), { force: true });
    console.log("posts web: not bundled (run scripts/setup-web.sh); the server serves the plain page");
  } else {
    await buildPage(outDir);
  }
}
