// Conformance with the real Igniter.js client: Chromium loads a page built on @igniter-js/core@0.3.40
// (IgniterProvider, useQuery, useRealtime, unchanged) from conformance_server, and we check what a user
// of that page would notice: which queries refetched (counted by the server) and which messages the
// hooks received.
//
// Run: CONFORMANCE_SERVER=<path to conformance_server> node --test tests/conformance/conformance.test.mjs
// (ctest does this). Needs scripts/setup-js.sh: Debian's chromium and `npm ci` in tests/conformance.
// Over HTTPS: CONFORMANCE_TLS_DIR=<dir made by tests/integration/tls/make_test_ca.sh> and
// NODE_EXTRA_CA_CERTS=<dir>/ca.pem; Chromium trusts the server certificate's key by its SPKI hash.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromiumLaunchOptions, chromiumPath, sleep, waitFor as waitForShared, stopServer } from '../support/browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const serverPath = process.env.CONFORMANCE_SERVER ?? process.argv[2];
const tlsDir = process.env.CONFORMANCE_TLS_DIR;  // set: everything over https
const STEP_TIMEOUT = 5000;  // every wait below is bounded by this
const SETTLE = 600;         // how long we watch for refetches that must not happen

function missingPrerequisite() {
  if (!serverPath) return 'CONFORMANCE_SERVER (path to conformance_server) is not set';
  if (!existsSync(serverPath)) return `no server binary at ${serverPath}`;
  if (!existsSync(path.join(here, 'node_modules', '@igniter-js', 'core'))) return 'run scripts/setup-js.sh (npm ci)';
  if (!existsSync(chromiumPath)) return `no chromium at ${chromiumPath}: run scripts/setup-js.sh`;
  if (tlsDir && !existsSync(path.join(tlsDir, 'spki.txt'))) return `no test CA in ${tlsDir} (tests/integration/tls/make_test_ca.sh)`;
  if (tlsDir && !process.env.NODE_EXTRA_CA_CERTS) return 'NODE_EXTRA_CA_CERTS is not set to the test CA';
  return null;
}

const waitFor = (what, probe, timeout = STEP_TIMEOUT) => waitForShared(what, probe, timeout);

/** Starts the server on a free port; resolves with {process, origin} once it prints its port. */
function startServer(pageDir) {
  return new Promise((resolve, reject) => {
    const env = tlsDir ? { ...process.env, TLS_CERT_FILE: path.join(tlsDir, 'a.pem'), TLS_KEY_FILE: path.join(tlsDir, 'a.key') } : process.env;
    const child = spawn(serverPath, ['0', pageDir], { stdio: ['ignore', 'pipe', 'inherit'], env });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('conformance_server did not print its port within 10 s'));
    }, 10000);
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ process: child, origin: `${tlsDir ? 'https' : 'http'}://127.0.0.1:${match[1]}` });
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`conformance_server exited early (${code})`)));
  });
}

// Watches the page's EventSources from outside the client (which stays unchanged): their URLs, whether
// the `connected` frame arrived, and any error.
const observeEventSources = () => {
  const Native = window.EventSource;
  const seen = (window.__eventSources = []);
  window.EventSource = class extends Native {
    constructor(url, init) {
      super(url, init);
      const record = { url: String(url), connected: false, errors: 0 };
      seen.push(record);
      this.addEventListener('connected', () => (record.connected = true));
      this.addEventListener('error', () => (record.errors += 1));
    }
  };
};

const problem = missingPrerequisite();

describe('the Igniter.js 0.3.40 client against igniter-cpp', () => {
  let server;
  let browser;
  const contexts = [];

  before(async () => {
    if (problem) assert.fail(`conformance prerequisites missing: ${problem}`);
    const { buildPage } = await import('./page/build.mjs');
    const outRoot = process.env.CONFORMANCE_OUT ?? mkdtempSync(path.join(tmpdir(), 'conformance-'));
    const pageDir = await buildPage(path.join(outRoot, 'page'));
    server = await startServer(pageDir);
    const { chromium } = await import('playwright-core');
    // A fresh temporary profile each run (Playwright creates it and removes it on close).
    const launch = { ...chromiumLaunchOptions, args: [...chromiumLaunchOptions.args] };
    if (tlsDir) launch.args.push(`--ignore-certificate-errors-spki-list=${readFileSync(path.join(tlsDir, 'spki.txt'), 'utf8').trim()}`);
    browser = await chromium.launch(launch);
  });

  const closeAll = async () => {
    while (contexts.length) await contexts.pop().close().catch(() => {});
  };
  afterEach(closeAll);  // a failed test leaves no page behind to skew the next one's counts

  after(async () => {
    await closeAll();
    await browser?.close().catch(() => {});
    // A clean exit on SIGTERM (no crash, no sanitizer report) is part of the run.
    if (server) assert.equal(await stopServer(server.process), 0, 'conformance_server exit status');
  });

  async function state() {
    const response = await fetch(`${server.origin}/api/v1/state`);
    return (await response.json()).data;
  }
  const fetches = async () => (await state()).fetches;

  async function post(path, body = {}) {
    const response = await fetch(`${server.origin}/api/v1${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(response.ok, `POST ${path} answered ${response.status}`);
    return response.json();
  }

  /** Opens the page as `user` (a cookie the server's scope resolver reads); resolves once every query
   *  loaded and the stream is open. */
  async function openPage(user, search = '') {
    const context = await browser.newContext();
    contexts.push(context);
    await context.addCookies([{ name: 'user', value: user, url: server.origin }]);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error));
    await page.addInitScript(observeEventSources);
    await page.goto(`${server.origin}/${search}`, { timeout: STEP_TIMEOUT });
    await waitFor('the queries to load and the stream to open', () =>
      page.evaluate(() =>
        ['posts', 'post-1', 'post-2', 'profile'].every(
          (id) => document.getElementById(id)?.dataset.status === 'success') &&
        window.__eventSources.some((source) => source.connected)));
    page.pageErrors = errors;
    return page;
  }

  test("a mutation's .revalidate refetches the list and the page shows the new post", async () => {
    const page = await openPage('alice');
    const shown = Number(await page.textContent('#posts'));
    const before = await fetches();
    await page.evaluate(() => window.__conformance.createPost('from the page'));
    await waitFor('the list to show the new post', async () => Number(await page.textContent('#posts')) === shown + 1);
    const now = await fetches();
    assert.equal(now['posts.list'], before['posts.list'] + 1, 'one refetch of posts.list');
    assert.equal(now['posts.getById:1'], before['posts.getById:1'], 'posts.getById:1 not refetched');
    assert.deepEqual(page.pageErrors, []);
  });

  test('a targeted revalidation refetches only that query instance', async () => {
    await openPage('alice');
    const before = await fetches();
    await post('/posts/1/touch');
    await waitFor('posts.getById id 1 to refetch',
                  async () => (await fetches())['posts.getById:1'] === before['posts.getById:1'] + 1);
    await sleep(SETTLE);
    const now = await fetches();
    assert.equal(now['posts.getById:1'], before['posts.getById:1'] + 1);
    assert.equal(now['posts.getById:2'], before['posts.getById:2'], 'id 2 must not refetch');
    assert.equal(now['posts.list'], before['posts.list'], 'posts.list must not refetch');
  });

  test("a scoped revalidation reaches only the granted user's page", async () => {
    await openPage('alice');
    await openPage('bob');
    const before = await fetches();
    await post('/users/alice/touch');
    await waitFor("alice's profile to refetch",
                  async () => (await fetches())['users.getProfile:alice'] === before['users.getProfile:alice'] + 1);
    await sleep(SETTLE);
    let now = await fetches();
    assert.equal(now['users.getProfile:bob'], before['users.getProfile:bob'], "bob's page must not refetch");

    await post('/users/bob/touch');
    await waitFor("bob's profile to refetch",
                  async () => (await fetches())['users.getProfile:bob'] === before['users.getProfile:bob'] + 1);
    await sleep(SETTLE);
    now = await fetches();
    assert.equal(now['users.getProfile:alice'], before['users.getProfile:alice'] + 1, 'alice refetched once');
  });

  test('useRealtime(channel) receives the stream handler data, then published messages, once each', async () => {
    const page = await openPage('alice');
    await post('/notifications', { text: 'first' });
    await post('/notifications', { text: 'second' });
    const messages = await waitFor('both messages', async () => {
      const got = await page.evaluate(() => window.__conformance.messages);
      return got.length >= 3 && got;
    });
    await sleep(SETTLE / 2);
    assert.deepEqual(await page.evaluate(() => window.__conformance.messages),
                     [{ text: 'welcome' }, { text: 'first' }, { text: 'second' }]);
    assert.equal(messages.length, 3);
  });

  test('the per-action form api.<controller>.<action>.useRealtime() receives published messages', async () => {
    const page = await openPage('alice');
    const channels = await page.evaluate(() => new URL(window.__eventSources.at(-1).url).searchParams.get('channels'));
    assert.ok(channels.split(',').includes('notifications.stream:{}'), `channels asked: ${channels}`);
    await post('/notifications', { text: 'per action' });
    await waitFor('the per-action hook to receive the message', async () =>
      (await page.evaluate(() => window.__conformance.perAction)).length >= 2);
    await sleep(SETTLE / 2);
    assert.deepEqual(await page.evaluate(() => window.__conformance.perAction), [
      { data: { text: 'welcome' }, error: null },
      { data: { text: 'per action' }, error: null },
    ]);
  });

  test('an unknown channel on the page does not break revalidation', async () => {
    const page = await openPage('alice', '?unknown=1');
    const channels = await page.evaluate(() => new URL(window.__eventSources.at(-1).url).searchParams.get('channels'));
    assert.ok(channels.split(',').includes('no.such.channel'), `channels asked: ${channels}`);
    const shown = Number(await page.textContent('#posts'));
    await post('/posts', { title: 'from outside' });
    await waitFor('the list to show the new post', async () => Number(await page.textContent('#posts')) === shown + 1);
    const sources = await page.evaluate(() => window.__eventSources);
    assert.deepEqual(sources.map((s) => s.errors), sources.map(() => 0), 'no stream error');
    assert.equal(sources.length, 1, 'one EventSource, never reopened');
  });
});
