// End-to-end: the posts demo's React page (examples/posts/web, on clients/js) in Debian's Chromium,
// against the real posts server started here. Two browser contexts (two "browser profiles") log in as
// different users, and we check what those users would notice: posts, profiles and notifications
// arriving without reloads, both pages recovering by themselves when the server restarts, and ten tabs
// of one browser sharing one SSE connection (counted on the server), also after their leader closes,
// older posts loading on demand (on this page and on the plain fallback page), and on both pages a session
// from logged out to logged out again: no request needing a session while logged out, a bell drawn as an
// SVG, a notifications panel covering no card at 1280×800 and at 390 px. Every test fails on a
// Content-Security-Policy violation, a script or console error, or a failed request (4xx/5xx included).
//
// Run: POSTS_SERVER=<path to posts> node --test tests/e2e/e2e.test.mjs   (ctest -L browser does this)
// Over HTTPS: E2E_TLS_DIR=<dir made by tests/integration/tls/make_test_ca.sh> and NODE_EXTRA_CA_CERTS=<dir>/ca.pem
// (Node reads it at start-up): the demo serves TLS_CERT_FILE/TLS_KEY_FILE, Chromium trusts the certificate's
// key by its SPKI hash (a real check: any other key fails), and one more test checks Secure cookies and HSTS.
// Needs scripts/setup-web.sh (npm ci in examples/posts/web) and scripts/setup-js.sh (chromium).
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromiumLaunchOptions, chromiumPath, sleep, waitFor as waitForShared, stopServer } from '../support/browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const webDir = path.join(root, 'examples/posts/web');
const serverPath = process.env.POSTS_SERVER ?? process.argv[2];
const tlsDir = process.env.E2E_TLS_DIR;  // set: everything over https
const scheme = tlsDir ? 'https' : 'http';
const STEP_TIMEOUT = 5000;  // every wait below is bounded by this unless it says otherwise
const SETTLE = 600;         // how long we watch for refetches and messages that must not happen
const TEST_TIMEOUT = 60000;

function missingPrerequisite() {
  if (!serverPath) return 'POSTS_SERVER (path to the posts binary) is not set';
  if (!existsSync(serverPath)) return `no server binary at ${serverPath}`;
  if (!existsSync(path.join(webDir, 'node_modules', 'esbuild'))) return 'run scripts/setup-web.sh (npm ci in examples/posts/web)';
  if (!existsSync(chromiumPath)) return `no chromium at ${chromiumPath}: run scripts/setup-js.sh`;
  if (tlsDir && !existsSync(path.join(tlsDir, 'spki.txt'))) return `no test CA in ${tlsDir} (tests/integration/tls/make_test_ca.sh)`;
  if (tlsDir && !process.env.NODE_EXTRA_CA_CERTS) return 'NODE_EXTRA_CA_CERTS is not set to the test CA';
  return null;
}

const waitFor = (what, probe, timeout = STEP_TIMEOUT) => waitForShared(what, probe, timeout);

/** A port that was free a moment ago (the server must come back on the same one after a restart). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Starts the posts server; resolves with the process once it logs that it listens. */
function startServer({ port, dataDir, publicDir }) {
  return new Promise((resolve, reject) => {
    const child = spawn(serverPath, [], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, PUBLIC_DIR: publicDir,
             IGNITER_STORE: 'memory',
             ...(tlsDir ? { TLS_CERT_FILE: path.join(tlsDir, 'a.pem'), TLS_KEY_FILE: path.join(tlsDir, 'a.key') } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`posts did not start listening within 10 s:\n${out}`));
    }, 10000);
    let out = '';
    const onData = (chunk) => {
      out += chunk;
      if (out.includes('listening on')) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        child.stdout.resume();
        child.stderr.resume();
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`posts exited early (${code}):\n${out}`));
    });
  });
}

// Counts the page's HTTP calls by "METHOD /path", from outside the page's code.
const countFetches = () => {
  const native = window.fetch;
  const calls = (window.__calls = {});
  window.fetch = function (input, init) {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url, location.href);
    const method = (init?.method ?? (typeof input === 'object' && 'method' in input ? input.method : 'GET')).toUpperCase();
    const key = `${method} ${url.pathname}`;
    calls[key] = (calls[key] ?? 0) + 1;
    return native.apply(this, arguments);
  };
};

// Collects in the page what the browser refused under the page's Content-Security-Policy.
const watchPolicy = () => {
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) =>
    window.__violations.push(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`));
};

/** The demo's API from outside any browser: `{status, data}` of an Igniter envelope. */
async function apiCall(origin, method, path, { body, token } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${origin}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const envelope = await response.json();
  return { status: response.status, data: envelope.data, headers: response.headers };
}

/** Logs `username` in through the API and writes `count` posts titled `<prefix> <i>`; resolves with the token. */
async function seedPosts(origin, username, prefix, count) {
  const { data } = await apiCall(origin, 'POST', '/auth/login', { body: { username } });
  for (let i = 0; i < count; i += 1)
    assert.equal((await apiCall(origin, 'POST', '/posts', { body: { title: `${prefix} ${i}` }, token: data.token })).status, 201);
  return data.token;
}

/** Every post newest first, as the API pages them (100 at a time). */
async function allPosts(origin) {
  const posts = [];
  let before = null;
  do {
    const { status, data } = await apiCall(origin, 'GET', `/posts?limit=100${before === null ? '' : `&before=${before}`}`);
    assert.equal(status, 200);
    posts.push(...data.posts);
    before = data.nextCursor;
  } while (before !== null);
  return posts;
}

const problem = missingPrerequisite();

describe('the posts demo page in Chromium', () => {
  let server;
  let browser;
  let origin;
  let port;
  let dataDir;
  let publicDir;
  let tempOut;  // the bundle's directory when E2E_OUT does not give one
  const contexts = [];

  before(async () => {
    if (problem) assert.fail(`e2e prerequisites missing: ${problem}`);
    const outRoot = process.env.E2E_OUT ?? (tempOut = mkdtempSync(path.join(tmpdir(), 'posts-e2e-')));
    const { buildPage } = await import(path.join(webDir, 'build.mjs'));
    publicDir = await buildPage(path.join(outRoot, 'public'));
    dataDir = mkdtempSync(path.join(tmpdir(), 'posts-e2e-data-'));
    port = await freePort();
    origin = `${scheme}://127.0.0.1:${port}`;
    server = await startServer({ port, dataDir, publicDir });
    const { chromium } = createRequire(path.join(webDir, 'package.json'))('playwright-core');
    const launch = { ...chromiumLaunchOptions, args: [...chromiumLaunchOptions.args] };
    // The test certificate's key, trusted by hash (Playwright gives every launch its own --user-data-dir,
    // which this flag needs): the certificate is still checked, only its issuer need not be a known CA.
    if (tlsDir) launch.args.push(`--ignore-certificate-errors-spki-list=${readFileSync(path.join(tlsDir, 'spki.txt'), 'utf8').trim()}`);
    browser = await chromium.launch(launch);
  });

  const closeAll = async () => {
    while (contexts.length) await contexts.pop().close().catch(() => {});
  };
  // What went wrong in the pages of this test, as a reader with the console open would see it: script
  // errors, what the Content-Security-Policy blocked, requests that failed or were answered 4xx/5xx.
  // A test that stops the server on purpose sets `failures.allowRequestFailures`.
  let failures;
  const resetFailures = () => { failures = { errors: [], requests: [], allowRequestFailures: false }; };
  resetFailures();
  /** Records the problems of every page of `context`. */
  function watchProblems(context) {
    context.on('weberror', (error) => failures.errors.push(`page error: ${error.error().message}`));
    context.on('console', (message) => {
      // "Failed to load resource" lines are the failed requests below; CSP reports come as errors too.
      if (message.type() === 'error' && !/^Failed to load resource/.test(message.text()))
        failures.errors.push(`console: ${message.text()}`);
    });
    context.on('requestfailed', (request) => {
      // A stream the page closes (when the session changes, or the page navigates or closes) is cancelled,
      // not failed: the console says nothing about it.
      if (request.failure()?.errorText === 'net::ERR_ABORTED' && request.resourceType() === 'eventsource') return;
      failures.requests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`);
    });
    context.on('response', (response) => {
      const url = new URL(response.url());
      // No exception, not even the logged-out page's profile: it must not ask for what needs a session.
      if (response.status() >= 400) failures.requests.push(`${response.request().method()} ${url.pathname}${url.search}: ${response.status()}`);
    });
  }
  /** The policy violations the pages recorded. */
  async function violations() {
    const found = [];
    for (const context of contexts)
      for (const page of context.pages()) found.push(...(await page.evaluate(() => window.__violations ?? []).catch(() => [])));
    return found;
  }
  afterEach(async () => {
    try {
      failures.errors.push(...(await violations()).map((v) => `Content-Security-Policy: ${v}`));
      assert.deepEqual(failures.errors, [], 'no script error, console error or policy violation');
      if (!failures.allowRequestFailures) assert.deepEqual(failures.requests, [], 'no request failed');
    } finally {
      await closeAll();
      resetFailures();
    }
  });

  after(async () => {
    await closeAll();
    await browser?.close().catch(() => {});
    if (server) assert.equal(await stopServer(server), 0, 'posts exit status');
    for (const dir of [dataDir, tempOut]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A new browser context (own cookies) on the page, logged in as `username` through the form.
   * `watch(context)` runs before the first page opens.
   */
  async function openAs(username, watch = () => {}) {
    const context = await browser.newContext();
    contexts.push(context);
    await context.addInitScript(countFetches);
    await context.addInitScript(watchPolicy);
    watchProblems(context);
    watch(context);
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    await page.goto(origin);
    await page.fill('#login-form input[name=username]', username);
    await page.click('#login-form button');
    await page.waitForSelector(`#who:text-is("@${username}")`);
    await waitForLive(page, `${username}'s page live`);
    await page.waitForSelector('#profile-name');
    return page;
  }

  /** The server's count of open SSE streams (GET /metrics, Prometheus text). */
  async function sseConnections() {
    const text = await (await fetch(`${origin}/metrics`)).text();
    const match = /^igniter_sse_connections (\d+)$/m.exec(text);
    assert.ok(match, `no igniter_sse_connections in /metrics:\n${text}`);
    return Number(match[1]);
  }

  const waitForLive = (page, what, timeout) =>
    waitFor(what, async () => (await page.textContent('#live-text')) === 'live', timeout);
  const calls = (page) => page.evaluate(() => ({ ...window.__calls }));
  const titles = (page) => page.$$eval('#posts .post-title', (nodes) => nodes.map((n) => n.textContent));
  const bellCount = (page) =>
    page.$eval('#bell-count', (node) => (node.hidden ? 0 : Number(node.textContent)));

  const intersects = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

  /** The bell is drawn: an SVG with a visible, non-zero box, painted lines and no text (no emoji). */
  async function checkBellIcon(page, what) {
    const icon = page.locator('#bell-button svg');
    assert.ok(await icon.isVisible(), `${what}: the bell's SVG is visible`);
    const box = await icon.boundingBox();
    assert.ok(box && box.width >= 16 && box.height >= 16, `${what}: the bell's SVG has a box of at least 16×16 (${JSON.stringify(box)})`);
    const drawn = await icon.evaluate((svg) => ({
      length: [...svg.querySelectorAll('path')].reduce((sum, path) => sum + path.getTotalLength(), 0),
      stroke: getComputedStyle(svg.querySelector('path')).stroke,
      width: getComputedStyle(svg.querySelector('path')).strokeWidth,
    }));
    assert.ok(drawn.length > 20, `${what}: the bell's paths draw something (${drawn.length})`);
    assert.ok(drawn.stroke !== 'none' && parseFloat(drawn.width) > 0, `${what}: the bell's lines are stroked (${JSON.stringify(drawn)})`);
    assert.equal((await page.textContent('#bell-button')).trim(), '', `${what}: the bell button holds no text (an emoji is a box without an emoji font)`);
    assert.match(await page.getAttribute('#bell-button', 'aria-label'), /^Notifications/, `${what}: the bell has an accessible name`);
  }

  /**
   * At 1280×800 and at 390 px wide: the open notifications panel intersects no other card (the profile
   * card's heading included, and that heading is what the browser hits at its centre), and the page is
   * no wider than the window. Leaves the panel closed and the window at 1280×800.
   */
  async function checkPanelLayout(page, what) {
    for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
      const where = `${what} at ${viewport.width}×${viewport.height}`;
      await page.setViewportSize(viewport);
      if (!(await page.isVisible('#bell-panel'))) await page.click('#bell-button');
      await page.waitForSelector('#bell-panel', { state: 'visible' });
      assert.equal(await page.getAttribute('#bell-button', 'aria-expanded'), 'true', `${where}: the bell says its panel is open`);
      const panel = await page.locator('#bell-panel').boundingBox();
      const heading = await page.locator('#profile-section h2').boundingBox();
      assert.ok(panel.width > 0 && panel.height > 0 && heading.width > 0, `${where}: panel and heading shown`);
      assert.ok(!intersects(panel, heading), `${where}: the panel ${JSON.stringify(panel)} covers the profile heading ${JSON.stringify(heading)}`);
      const cards = await page.$$eval('main section', (nodes) =>
        nodes.filter((n) => n.id !== 'bell-panel' && n.offsetParent !== null).map((n) => {
          const r = n.getBoundingClientRect();
          return { id: n.id || n.querySelector('h2')?.textContent, x: r.x, y: r.y, width: r.width, height: r.height };
        }));
      for (const card of cards) assert.ok(!intersects(panel, card), `${where}: the panel covers the card ${card.id}`);
      const hit = await page.evaluate(() => {
        const h = document.querySelector('#profile-section h2');
        h.scrollIntoView({ block: 'center' });
        const r = h.getBoundingClientRect();
        const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return h.contains(top) ? 'heading' : top?.outerHTML.slice(0, 80);
      });
      assert.equal(hit, 'heading', `${where}: the profile heading is what a click on it hits`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${where}: the page is ${overflow} px wider than the window`);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.click('#bell-button');
      await page.waitForSelector('#bell-panel', { state: 'hidden' });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  }

  /**
   * Logged out, logging in, logged in (bell, panel), logging out, and reloaded logged out: no request
   * needing a session while logged out (the afterEach hook fails on any console error or failed request).
   */
  async function checkSessionCycle(page, pageOrigin, username) {
    const profileCalls = [];
    const onRequest = (request) => { if (new URL(request.url()).pathname === '/api/v1/users/profile') profileCalls.push(request.method()); };
    page.on('request', onRequest);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(pageOrigin);
    await waitForLive(page, 'the logged-out page live');
    await page.waitForSelector('#posts li');
    await sleep(SETTLE);
    assert.deepEqual(profileCalls, [], 'the logged-out page did not ask for the profile');
    assert.equal(await page.isVisible('#bell-button'), false, 'no bell logged out');

    await page.fill('#login-form input[name=username]', username);
    await page.click('#login-form button');
    await page.waitForSelector('#profile-section h2', { state: 'visible' });
    await waitForLive(page, `${username}'s page live`);
    await checkBellIcon(page, `${username}'s page`);
    await checkPanelLayout(page, `${username}'s page`);

    await page.click('#logout');
    await page.waitForSelector('#login-form', { state: 'visible' });
    await waitForLive(page, 'the page live again, logged out');
    assert.equal(await page.isVisible('#bell-panel'), false, 'no panel once logged out');
    await sleep(SETTLE);
    profileCalls.length = 0;
    await page.reload();
    await waitForLive(page, 'the reloaded logged-out page live');
    await page.waitForSelector('#posts li');
    await sleep(SETTLE);
    assert.deepEqual(profileCalls, [], 'the reloaded logged-out page did not ask for the profile');
    assert.equal(await page.isVisible('#login-form'), true);
    page.off('request', onRequest);
  }

  async function createPost(page, title) {
    await page.fill('#create-form input[name=title]', title);
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/posts') && r.request().method() === 'POST');
    await page.click('#create-form button');
    const response = await answered;
    assert.equal(response.status(), 201, `POST /posts answered ${response.status()}`);
  }

  async function notify(page, text, to = '') {
    await page.fill('#notify-form input[name=text]', text);
    await page.fill('#notify-form input[name=to]', to);
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/notifications'));
    await page.click('#notify-form button');
    assert.equal((await answered).status(), 201);
  }

  test('the generated API module matches the server schema', { timeout: TEST_TIMEOUT }, async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'posts-gen-')), 'api.gen.ts');
    try {
      await new Promise((resolve, reject) =>
        execFile(process.execPath, [path.join(root, 'clients/js/bin/igniter-gen.mjs'), '--schema',
                                    `${origin}/__igniter/schema`, '--out', out, '--import', '@igniter-cpp/client'],
                 { timeout: 10000 }, (error, stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve())));
      assert.equal(readFileSync(path.join(webDir, 'src/api.gen.ts'), 'utf8'), readFileSync(out, 'utf8'),
                   'examples/posts/web/src/api.gen.ts is stale: run `npm run gen --prefix examples/posts/web` against a running server');
    } finally {
      rmSync(path.dirname(out), { recursive: true, force: true });
    }
  });

  test('a post created in one browser appears in the other within a second, without reload', { timeout: TEST_TIMEOUT }, async () => {
    const alice = await openAs('alice');
    const bob = await openAs('bob');
    const title = `Hello from alice ${Date.now()}`;
    const navigations = [];
    bob.on('framenavigated', (frame) => navigations.push(frame.url()));
    await createPost(alice, title);
    const answeredAt = Date.now();
    await waitFor('the post on bob\'s page', async () => (await titles(bob)).includes(title), 1000);
    assert.ok(Date.now() - answeredAt <= 1000);
    await waitFor('the post on alice\'s page', async () => (await titles(alice)).includes(title));
    assert.deepEqual(navigations, [], 'bob\'s page did not reload');
    assert.equal(await bob.$eval('#posts li[data-post-id] .post-author', (n) => n.textContent), 'alice');
  });

  test('a profile update refetches its own user\'s profile only, and the list of posts everywhere', { timeout: TEST_TIMEOUT }, async () => {
    const alice = await openAs('alice');
    const bob = await openAs('bob');
    const alice2 = await alice.context().newPage();  // a second tab of alice: same session, same user
    alice2.setDefaultTimeout(STEP_TIMEOUT);
    await alice2.goto(origin);
    await waitForLive(alice2, 'alice\'s second tab live');
    const before = await Promise.all([alice, alice2, bob].map(calls));
    const name = `Alice ${Date.now()}`;
    await alice.fill('#profile-form input[name=name]', name);
    await alice.click('#profile-form button');
    await waitFor('the new name in alice\'s tab', async () => (await alice.textContent('#profile-name')) === name);
    await waitFor('the new name in alice\'s second tab', async () => (await alice2.textContent('#profile-name')) === name);
    await sleep(SETTLE);
    const afterCalls = await Promise.all([alice, alice2, bob].map(calls));
    const profileFetches = (i) => (afterCalls[i]['GET /api/v1/users/profile'] ?? 0) - (before[i]['GET /api/v1/users/profile'] ?? 0);
    assert.equal(profileFetches(0), 1, 'alice\'s tab refetched its profile once');
    assert.equal(profileFetches(1), 1, 'alice\'s second tab refetched its profile once');
    assert.equal(profileFetches(2), 0, 'bob\'s page did not refetch its profile');
    // The list shows its authors' names, so a rename revalidates it too (once per page, every page):
    // with posts.list cached, that is also what drops the copy holding the old name.
    for (let i = 0; i < 3; i += 1)
      assert.equal(afterCalls[i]['GET /api/v1/posts'] - before[i]['GET /api/v1/posts'], 1, 'one posts refetch');
  });

  test('a targeted notification reaches only its user; a broadcast reaches both', { timeout: TEST_TIMEOUT }, async () => {
    const alice = await openAs('alice');
    const bob = await openAs('bob');
    assert.equal(await bellCount(alice), 0);
    assert.equal(await bellCount(bob), 0);
    await notify(alice, 'psst, bob', 'bob');
    await waitFor('bob\'s bell at 1', async () => (await bellCount(bob)) === 1);
    await sleep(SETTLE);
    assert.equal(await bellCount(alice), 0, 'alice did not receive bob\'s notification');
    await notify(alice, 'hello everyone');
    await waitFor('bob\'s bell at 2', async () => (await bellCount(bob)) === 2);
    await waitFor('alice\'s bell at 1', async () => (await bellCount(alice)) === 1);
    await bob.click('#bell-button');
    const texts = await bob.$$eval('#notifications li', (nodes) => nodes.map((n) => n.textContent));
    assert.equal(texts.length, 2);
    assert.match(texts[0], /hello everyone/);
    assert.match(texts[1], /psst, bob/);
  });

  test('logged out, logging in, logged in and logging out, the console stays clean; the bell is drawn and its panel covers nothing', { timeout: TEST_TIMEOUT }, async () => {
    const context = await browser.newContext();
    contexts.push(context);
    await context.addInitScript(watchPolicy);
    watchProblems(context);
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    await checkSessionCycle(page, origin, 'henry');
  });

  test('both pages recover by themselves when the server restarts', { timeout: TEST_TIMEOUT }, async () => {
    const alice = await openAs('alice');
    const bob = await openAs('bob');
    const navigations = [];
    for (const page of [alice, bob]) page.on('framenavigated', (frame) => navigations.push(frame.url()));

    failures.allowRequestFailures = true;  // while the server is down, the pages' requests fail
    assert.equal(await stopServer(server), 0, 'posts exit status on SIGTERM');
    await waitFor('alice\'s page offline', async () => (await alice.textContent('#live-text')) === 'offline');
    await waitFor('bob\'s page offline', async () => (await bob.textContent('#live-text')) === 'offline');
    server = await startServer({ port, dataDir, publicDir });  // same port, same data

    // Reconnect backoff is at most a few seconds after a short outage.
    await waitForLive(alice, 'alice\'s page live again', 20000);
    await waitForLive(bob, 'bob\'s page live again', 20000);
    const title = `After the restart ${Date.now()}`;
    await createPost(bob, title);  // the session cookie still works: sessions live in the database
    await waitFor('bob\'s post on alice\'s page', async () => (await titles(alice)).includes(title), 1000);
    const before = await bellCount(alice);
    await notify(bob, 'still there?', 'alice');
    await waitFor('alice\'s bell counts it', async () => (await bellCount(alice)) === before + 1);
    assert.deepEqual(navigations, [], 'no page reloaded');
  });

  test('ten tabs of one browser hold one SSE connection between them, also after the leader tab closes', { timeout: TEST_TIMEOUT }, async () => {
    // The pages' open EventSource requests, seen from outside the pages: the tab that has one leads.
    const streams = new Set();
    const first = await openAs('carol', (context) => {
      context.on('request', (request) => { if (request.resourceType() === 'eventsource') streams.add(request); });
      context.on('requestfinished', (request) => streams.delete(request));
      context.on('requestfailed', (request) => streams.delete(request));
    });
    const tabs = [first];
    for (let i = 1; i < 10; i += 1) {
      const page = await first.context().newPage();
      page.setDefaultTimeout(STEP_TIMEOUT);
      await page.goto(origin);
      tabs.push(page);
    }
    for (const [i, page] of tabs.entries()) await waitForLive(page, `tab ${i} live`);
    await waitFor('one SSE connection on the server for ten tabs', async () => (await sseConnections()) === 1);
    // (A closed page's stream gets no "failed" event.)
    const streamPages = () => [...streams].map((request) => request.frame().page()).filter((page) => !page.isClosed());
    await waitFor('one tab holding an EventSource', () => streamPages().length === 1);

    const title = `Ten tabs ${Date.now()}`;
    await tabs[7].bringToFront();  // a background tab has no animation frames, which a click waits for
    await createPost(tabs[7], title);
    for (const [i, page] of tabs.entries())
      await waitFor(`the post in tab ${i}`, async () => (await titles(page)).includes(title));

    // The leader's tab closes: another tab takes over the stream, resuming where it left off.
    const leader = streamPages()[0];
    const rest = tabs.filter((page) => page !== leader);
    assert.equal(rest.length, 9);
    await leader.close();
    for (const [i, page] of rest.entries()) await waitForLive(page, `tab ${i} of nine live`);
    await waitFor('one tab of nine holding an EventSource', () => {
      const pages = streamPages();
      return pages.length === 1 && rest.includes(pages[0]);
    });
    const resumed = [...streams].find((request) => !request.frame().page().isClosed());
    assert.match(resumed.url(), /[?&]lastEventId=[^&]/, 'the new leader\'s stream resumes after the last relayed event');
    const after = `After the hand-over ${Date.now()}`;
    await rest[2].bringToFront();
    await createPost(rest[2], after);
    for (const [i, page] of rest.entries())
      await waitFor(`the post in tab ${i} of nine`, async () => (await titles(page)).includes(after));
    await waitFor('one SSE connection on the server for nine tabs', async () => (await sseConnections()) === 1);
  });
  /**
   * Checks, as the reader scrolls: the page shows exactly the `count` newest posts of `origin`, in order.
   * Resolves with the posts the server has.
   */
  async function waitForNewest(page, origin, count, what, timeout) {
    let expected;
    await waitFor(what, async () => {
      expected = (await allPosts(origin)).map((post) => post.title);
      return JSON.stringify(await titles(page)) === JSON.stringify(expected.slice(0, count));
    }, timeout);
    return expected;
  }

  /** Clicks "Load more" until the button goes away; resolves with how many clicks it took. */
  async function loadEverything(page, origin) {
    let clicks = 0;
    while (await page.isVisible('#load-more')) {
      const shown = (await titles(page)).length;
      await page.click('#load-more');
      clicks += 1;
      await waitFor('another page', async () => (await titles(page)).length > shown);
    }
    const all = await waitForNewest(page, origin, Infinity, 'every post');
    assert.equal((await titles(page)).length, all.length);
    return clicks;
  }

  test('older posts load on demand; a new post appears on top and every loaded post stays', { timeout: TEST_TIMEOUT }, async () => {
    const erin = await seedPosts(origin, 'erin', `Older post ${Date.now()}`, 45);
    const dave = await openAs('dave');
    await waitForNewest(dave, origin, 20, 'the newest page of 20');
    assert.ok(await dave.isVisible('#load-more'), 'a "Load more" button under the first page');
    await dave.click('#load-more');
    await waitForNewest(dave, origin, 40, 'the second page under the first');

    // Written elsewhere: it appears on top, and the 40 already loaded stay (none is pushed out).
    const title = `On top of two pages ${Date.now()}`;
    assert.equal((await apiCall(origin, 'POST', '/posts', { body: { title }, token: erin })).status, 201);
    await waitFor('the new post on top', async () => (await titles(dave))[0] === title, 1000);
    await waitForNewest(dave, origin, 41, 'the new post above the 40 loaded ones');

    // Deleted elsewhere from the second page: it goes away, the rest stays.
    const posts = await allPosts(origin);
    const victim = posts[30];
    assert.equal((await apiCall(origin, 'DELETE', `/posts/${victim.id}`, { token: erin })).status, 200);
    await waitFor('the deleted post gone', async () => !(await titles(dave)).includes(victim.title));
    await waitForNewest(dave, origin, 40, 'the 40 others still there');

    assert.ok(await loadEverything(dave, origin) >= 1);
    const counts = await calls(dave);
    assert.ok(counts['GET /api/v1/posts'] >= 3, 'the pages came from the paginated API');
  });

  test('the online list shows who has a page open and drops who leaves, without reload', { timeout: TEST_TIMEOUT }, async () => {
    const online = (page) => page.$$eval('#online-section li[data-user]', (nodes) => nodes.map((n) => n.dataset.user).sort());
    const alice = await openAs('alice');
    const bob = await openAs('bob');
    await waitFor('alice and bob on alice\'s list', async () => JSON.stringify(await online(alice)) === '["alice","bob"]', 3000);
    await waitFor('alice and bob on bob\'s list', async () => JSON.stringify(await online(bob)) === '["alice","bob"]', 3000);
    await bob.context().close();  // bob's browser goes away: after the linger (1 s), alice's list refetches
    await waitFor('bob gone from alice\'s list', async () => JSON.stringify(await online(alice)) === '["alice"]', 4000);
  });

  test('the plain page (served without the bundle) loads more on demand too, under the same policy', { timeout: TEST_TIMEOUT }, async () => {
    const plainData = mkdtempSync(path.join(tmpdir(), 'posts-e2e-plain-'));
    const plainPort = await freePort();
    const plainOrigin = `${scheme}://127.0.0.1:${plainPort}`;
    const plain = await startServer({ port: plainPort, dataDir: plainData, publicDir: path.join(root, 'examples/posts/public') });
    try {
      const token = await seedPosts(plainOrigin, 'frank', 'Plain post', 25);
      const context = await browser.newContext();
      contexts.push(context);
      await context.addInitScript(watchPolicy);
      watchProblems(context);
      const page = await context.newPage();
      page.setDefaultTimeout(STEP_TIMEOUT);
      await page.goto(plainOrigin);
      await waitForLive(page, 'the plain page live');
      await page.waitForSelector('#online-section li.muted:text-is("Nobody signed in.")');  // the online list
      await waitForNewest(page, plainOrigin, 20, 'the newest page of 20');
      assert.equal(await loadEverything(page, plainOrigin), 1);
      const title = `Plain and live ${Date.now()}`;
      assert.equal((await apiCall(plainOrigin, 'POST', '/posts', { body: { title }, token })).status, 201);
      await waitFor('the new post on top', async () => (await titles(page))[0] === title, 1000);
      await waitForNewest(page, plainOrigin, 26, 'the new post above the 25 loaded ones');
      assert.equal(await page.isVisible('#load-more'), false);
      await checkSessionCycle(page, plainOrigin, 'ivy');
    } finally {
      failures.errors.push(...(await violations()).map((v) => `Content-Security-Policy: ${v}`));
      await closeAll();  // before its server goes
      assert.equal(await stopServer(plain), 0, 'the plain page\'s server exit status');
      rmSync(plainData, { recursive: true, force: true });
    }
  });
  test('over https the session cookie is Secure and answers carry Strict-Transport-Security', { skip: !tlsDir, timeout: TEST_TIMEOUT }, async () => {
    const { status, headers } = await apiCall(origin, 'POST', '/auth/login', { body: { username: 'grace' } });
    assert.equal(status, 200);
    assert.match(headers.get('set-cookie'), /^session=[^;]+;.*; Secure/);
    assert.match(headers.get('strict-transport-security'), /^max-age=\d+$/);
    const page = await (await browser.newContext()).newPage();
    const response = await page.goto(origin);
    assert.equal(response.status(), 200);
    assert.equal((await response.securityDetails())?.protocol?.startsWith('TLS 1.'), true);
    await page.context().close();
  });
});
