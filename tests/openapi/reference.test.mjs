// The posts demo's API reference page (Redoc's bundle, served by the app itself) renders its OpenAPI
// document in Chromium, under the page's Content-Security-Policy and with nothing fetched from elsewhere.
//
// Run: POSTS_SERVER=<path to posts> node --test tests/openapi/reference.test.mjs   (ctest -L browser)
// Needs scripts/setup-api-reference.sh (third_party/redoc), `npm ci` here and Debian's chromium
// (scripts/setup-js.sh).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumLaunchOptions, chromiumPath, stopServer, waitFor } from '../support/browser.mjs';
import { freePort, startDemo } from './demo.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const serverPath = process.env.POSTS_SERVER ?? process.argv[2];
const redoc = path.resolve(here, '../../third_party/redoc/redoc.standalone.js');
let server;
let browser;
let base;
let dataDir;

before(async () => {
  assert.ok(serverPath, 'POSTS_SERVER (path to the posts binary) is not set');
  assert.ok(existsSync(redoc), `no ${redoc}: run scripts/setup-api-reference.sh`);
  assert.ok(existsSync(chromiumPath), `no chromium at ${chromiumPath}: run scripts/setup-js.sh`);
  dataDir = mkdtempSync(path.join(tmpdir(), 'igniter-reference-'));
  const port = await freePort();
  server = await startDemo(serverPath, { PORT: String(port), DATA_DIR: dataDir, API_DOCS_SCRIPT: redoc });
  base = `http://127.0.0.1:${port}`;
  browser = await chromium.launch(chromiumLaunchOptions);
});

after(async () => {
  await browser?.close();
  if (server) await stopServer(server);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('the reference page lists every controller and renders the actions', async () => {
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (message) => {
    // Failed loads are checked below by URL (the browser's own /favicon.ico may 404). Redoc's footer asks
    // for its logo on cdn.redoc.ly: the page's policy blocks it (that is the point; Redoc then hides it).
    const text = message.text();
    if (message.type() === 'error' && !text.startsWith('Failed to load resource') &&
        !/^Loading the image 'https:\/\/cdn\.redoc\.ly\/[^']*' violates the following Content Security Policy/.test(text))
      problems.push(text);
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && new URL(response.url()).pathname !== '/favicon.ico')
      problems.push(`${response.status()} ${response.url()}`);
  });
  page.on('pageerror', (error) => problems.push(String(error)));
  const elsewhere = [];
  page.on('requestfinished', (request) => { // a request the page's policy blocked fails instead
    const url = request.url();
    if (!url.startsWith(base) && !url.startsWith('blob:') && !url.startsWith('data:')) elsewhere.push(url);
  });

  await page.goto(`${base}/__igniter/docs`);
  const text = await waitFor('the rendered reference', async () => {
    const body = await page.evaluate(() => document.body.innerText);
    return body.includes('posts.getById') ? body : null;
  }, 20000);
  assert.match(text, /igniter-cpp posts demo \(0\.1\.0\)/);
  for (const tag of ['auth', 'posts', 'users', 'notifications', 'realtime']) assert.match(text, new RegExp(`\\b${tag}\\b`));
  assert.match(text, /posts\.create/);
  assert.deepEqual(problems, [], 'console errors (a Content-Security-Policy violation among them?)');
  assert.deepEqual(elsewhere, [], 'the page fetched from another origin');
});
