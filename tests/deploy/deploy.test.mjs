// The deployment recipe, run for real: Debian's nginx with deploy/nginx.conf (its two addresses
// substituted, as docs/deploy.md tells a user to) in front of the posts demo, and a client that talks
// only to nginx. We check what a user would notice: queries and mutations answer, a revalidation and a
// published notification reach an open stream at once (nginx does not buffer them), a stream resumes
// with Last-Event-ID after a disconnect, a graceful restart of the demo (SIGTERM, start again) is
// survived by a reconnecting client (told to resync on the memory store; resumed exactly on Redis), the
// demo logs the client's address from nginx's X-Forwarded-For, and a client cannot spoof that header.
// Also: deploy/igniter-posts.service passes `systemd-analyze verify`.
//
// The client connects from 127.0.0.2 (all of 127/8 is loopback on Linux) so that it differs from the
// proxy's own address, 127.0.0.1, the one the demo trusts (TRUSTED_PROXIES=127.0.0.1).
//
// Run: POSTS_SERVER=<path to posts> node --test tests/deploy/deploy.test.mjs   (ctest -L deploy does this)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const serverPath = process.env.POSTS_SERVER ?? process.argv[2];
const NGINX = process.env.NGINX ?? '/usr/sbin/nginx';
const REDIS = '/usr/bin/redis-server';
const CLIENT = '127.0.0.2';  // the browser's address, as nginx sees it
const PROMPT = 1000;         // an event is "prompt" when it arrives within this after the request answered
const STEP = 5000;           // bound of every other wait
const TEST = { timeout: 30000 };  // no test may hang the suite

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what, probe, timeout = STEP) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(20);
  }
}

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

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** A child process whose output we keep; `exited` resolves with {code, signal}. */
function run(command, args, env, ready) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  child.stdout.on('data', (chunk) => { child.output += chunk; });
  child.stderr.on('data', (chunk) => { child.output += chunk; });
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.on('error', (error) => { child.output += String(error); });
  return child;
}

async function stop(child, signal = 'SIGTERM') {
  if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exited;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), STEP);
  const result = await child.exited;
  clearTimeout(timer);
  return result;
}

/** The posts demo on `port`, trusting nginx (127.0.0.1) only; resolves once it listens. */
async function startDemo({ port, dataDir, store }) {
  const child = run(serverPath, [], { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir,
                                      IGNITER_STORE: store, TRUSTED_PROXIES: '127.0.0.1' });
  await waitFor('the demo to listen', () => {
    if (child.exitCode !== null) throw new Error(`posts exited early (${child.exitCode}):\n${child.output}`);
    return child.output.includes('listening on');
  }, 10000);
  return child;
}

/** deploy/nginx.conf with its two addresses substituted, under the test wrapper; resolves once it listens. */
async function startNginx({ dir, appPort, port }) {
  mkdirSync(dir, { recursive: true });
  const site = readFileSync(path.join(root, 'deploy/nginx.conf'), 'utf8');
  const substituted = site.replace(/127\.0\.0\.1:3000/g, `127.0.0.1:${appPort}`)
    .replace(/listen 8080\b/g, `listen 127.0.0.1:${port}`);
  assert.ok(substituted.includes(`127.0.0.1:${appPort};`) && substituted.includes(`listen 127.0.0.1:${port}`),
            'the site file names 127.0.0.1:3000 and listen 8080');
  writeFileSync(path.join(dir, 'site.conf'), substituted);
  const wrapper = readFileSync(path.join(here, 'nginx-wrapper.conf.in'), 'utf8')
    .replace(/@DIR@/g, dir)
    .replace('@USER@', process.getuid() === 0 ? 'user root;' : '');
  writeFileSync(path.join(dir, 'nginx.conf'), wrapper);
  const args = ['-e', path.join(dir, 'error.log'), '-p', dir, '-c', path.join(dir, 'nginx.conf')];
  const check = spawnSync(NGINX, [...args, '-t'], { encoding: 'utf8' });
  assert.equal(check.status, 0, `nginx -t refused the configuration:\n${check.stderr}`);
  const child = run(NGINX, args, {});
  await waitFor('nginx to listen', async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}):\n${child.output}`);
    return canConnect(port);
  });
  return child;
}

/** One HTTP exchange; `{status, headers, body, json}`. */
function request(port, method, target, { headers = {}, body, localAddress = CLIENT, token } = {}) {
  return new Promise((resolve, reject) => {
    const all = { ...headers };
    let payload;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      all['Content-Type'] ??= 'application/json';
    }
    if (token) all.Authorization = `Bearer ${token}`;
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers: all, localAddress, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => { text += chunk; });
        res.on('end', () => {
          let json;
          try { json = JSON.parse(text); } catch { json = undefined; }
          resolve({ status: res.statusCode, headers: res.headers, body: text, json });
        });
      });
    req.setTimeout(STEP, () => req.destroy(new Error(`${method} ${target} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Parses `text/event-stream` bytes into frames {id, event, data, retry} (comments skipped). */
class FrameParser {
  constructor(onFrame) { this.buffer = ''; this.onFrame = onFrame; }
  push(chunk) {
    this.buffer += chunk;
    let end;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const frame = { event: 'message', data: '' };
      let fields = 0;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (name === 'data') frame.data += (frame.data ? '\n' : '') + value;
        else if (name === 'id' || name === 'event' || name === 'retry') frame[name] = value;
        else continue;
        fields += 1;
      }
      if (fields) this.onFrame(frame);
    }
  }
}

const openStreams = new Set();  // closed after the tests, whatever they left open

/** One SSE request: `frames` fill as they arrive; `ended` resolves when the server ends the stream. */
function openStream(port, { query = 'channels=revalidation,notifications.stream', token, lastEventId } = {}) {
  const stream = { frames: [], status: 0, headers: {}, receivedAt: [] };
  stream.ended = new Promise((resolveEnded) => {
    stream.opened = new Promise((resolve, reject) => {
      const headers = { Accept: 'text/event-stream' };
      if (token) headers.Authorization = `Bearer ${token}`;
      if (lastEventId) headers['Last-Event-ID'] = lastEventId;
      const req = http.get({ host: '127.0.0.1', port, path: `/api/v1/sse/events?${query}`, headers,
                             localAddress: CLIENT, agent: false }, (res) => {
        stream.status = res.statusCode;
        stream.headers = res.headers;
        res.setEncoding('utf8');
        const parser = new FrameParser((frame) => {
          if (frame.data.startsWith('{')) frame.json = JSON.parse(frame.data);
          stream.frames.push(frame);
          stream.receivedAt.push(Date.now());
        });
        res.on('data', (chunk) => parser.push(chunk));
        res.on('end', () => resolveEnded('end'));
        res.on('error', () => resolveEnded('error'));
        res.on('close', () => resolveEnded('close'));
        resolve(stream);
      });
      // Every way this request can end ends the stream; no head within STEP is an error, not a hang.
      const timer = setTimeout(() => req.destroy(new Error(`no answer to the stream request within ${STEP} ms`)), STEP);
      req.on('response', () => clearTimeout(timer));
      req.on('error', (error) => { clearTimeout(timer); resolveEnded('error'); reject(error); });
      req.on('close', () => { clearTimeout(timer); resolveEnded('close'); reject(new Error('closed before the head')); });
      stream.close = () => req.destroy();
    });
  });
  stream.opened.catch(() => {});  // awaited where it matters
  openStreams.add(stream);
  void stream.ended.then(() => openStreams.delete(stream));
  return stream;
}

/** Waits for the first frame after index `from` that `match`es; resolves with {frame, index, at}. */
async function nextFrame(stream, match, { from = 0, timeout = STEP } = {}) {
  return waitFor('a matching frame', () => {
    for (let i = from; i < stream.frames.length; i += 1)
      if (match(stream.frames[i])) return { frame: stream.frames[i], index: i, at: stream.receivedAt[i] };
    return null;
  }, timeout);
}

const isRevalidate = (key) => (f) => f.event === 'revalidate' && f.json?.data?.queryKeys?.includes(key);
const isNotification = (text) => (f) => f.json?.channel === 'notifications.stream' && f.json?.data?.text === text;

/**
 * What a browser's EventSource does, over our stream: on every end it waits the `retry:` it was given
 * (capped here, to keep the test short) and reconnects with the last id it saw as Last-Event-ID. Frames
 * of every connection go to one list; `connects` lists each connection's `connected` frame.
 */
const clients = new Set();  // reconnecting clients still running, closed after the tests

class ReconnectingStream {
  constructor(port, { token, lastId = '', cap = 300 } = {}) {
    Object.assign(this, { port, token, cap, lastId, frames: [], connects: [], answers: [], retry: 2000 });
    this.loop = this.run();
    clients.add(this);
  }
  async run() {
    while (!this.closed) {
      const stream = openStream(this.port, { token: this.token, lastEventId: this.lastId });
      this.current = stream;
      try { await stream.opened; } catch { /* refused: retry */ }
      this.answers.push({ status: stream.status, type: stream.headers['content-type'] });
      const pump = setInterval(() => this.take(stream), 10);
      await stream.ended;
      clearInterval(pump);
      this.take(stream);
      if (!this.closed) await sleep(Math.min(this.retry, this.cap));
    }
  }
  take(stream) {
    stream.taken ??= 0;
    for (; stream.taken < stream.frames.length; stream.taken += 1) {
      const frame = stream.frames[stream.taken];
      if (frame.retry) this.retry = Number(frame.retry);
      if (frame.id) this.lastId = frame.id;
      if (frame.event === 'connected') this.connects.push(frame.json);
      this.frames.push(frame);
    }
  }
  async close() {
    clients.delete(this);
    this.closed = true;
    this.current?.close();
    await this.loop;
  }
}

function missingPrerequisite() {
  if (!serverPath) return 'POSTS_SERVER (path to the posts binary) is not set';
  if (!existsSync(serverPath)) return `no server binary at ${serverPath}`;
  if (!existsSync(NGINX)) return `no nginx at ${NGINX}: run bench/setup.sh (apt-get install nginx)`;
  return null;
}

const skip = missingPrerequisite();
const scratch = mkdtempSync(path.join(tmpdir(), 'igniter-deploy-'));
after(() => {
  for (const stream of openStreams) stream.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** The demo behind nginx on the store `storeUrl()` names; the `describe` blocks below share it. */
function stage(storeUrl) {
  const s = { storeUrl };
  before(async () => {
    s.dir = mkdtempSync(path.join(scratch, 'stage-'));
    s.appPort = await freePort();
    s.port = await freePort();
    s.dataDir = path.join(s.dir, 'data');
    s.demo = await startDemo({ port: s.appPort, dataDir: s.dataDir, store: s.storeUrl() });
    s.nginx = await startNginx({ dir: path.join(s.dir, 'nginx'), appPort: s.appPort, port: s.port });
    const login = await request(s.port, 'POST', '/api/v1/auth/login', { body: { username: 'alice' } });
    assert.equal(login.status, 200, login.body);
    s.token = login.json.data.token;
  });
  after(async () => {
    for (const client of [...clients]) await client.close();
    for (const stream of openStreams) stream.close();
    await stop(s.nginx, 'SIGTERM');
    await stop(s.demo);
  });
  s.restart = async () => {
    const started = Date.now();
    const result = await stop(s.demo, 'SIGTERM');
    s.stopMs = Date.now() - started;
    s.stopResult = result;
    return result;
  };
  return s;
}

describe('the demo behind nginx (memory store)', { skip: skip ?? false }, () => {
  const s = stage(() => 'memory');

  test('queries, the page and a mutation answer through the proxy', TEST, async () => {
    const page = await request(s.port, 'GET', '/');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /text\/html/);
    const list = await request(s.port, 'GET', '/api/v1/posts');
    assert.equal(list.status, 200, list.body);
    assert.ok(Array.isArray(list.json.data.posts), list.body);
    const created = await request(s.port, 'POST', '/api/v1/posts', { token: s.token, body: { title: 'via nginx' } });
    assert.equal(created.status, 201, created.body);
    const one = await request(s.port, 'GET', `/api/v1/posts/${created.json.data.id}`);
    assert.equal(one.json.data.title, 'via nginx');
  });

  test('a body past the limit is refused by nginx with the app\'s JSON envelope', TEST, async () => {
    const big = JSON.stringify({ title: 'x', content: 'y'.repeat(1100 * 1024) });
    const answer = await request(s.port, 'POST', '/api/v1/posts', { token: s.token, body: big });
    assert.equal(answer.status, 413);
    assert.match(answer.headers['content-type'], /application\/json/);
    assert.equal(answer.headers['x-request-id'], undefined, 'nginx answered, not the app');
    // The app's own bytes for the same refusal.
    assert.equal(answer.body, '{"data":null,"error":{"message":"Request body too large","code":"ERR_PAYLOAD_TOO_LARGE"}}');
  });

  test('a revalidation and a published notification reach an open stream at once', TEST, async () => {
    const stream = openStream(s.port, { token: s.token });
    await stream.opened;
    assert.equal(stream.status, 200);
    assert.match(stream.headers['content-type'], /^text\/event-stream/);
    assert.equal(stream.headers['x-accel-buffering'], undefined, 'nginx consumes X-Accel-Buffering');
    const connected = await nextFrame(stream, (f) => f.event === 'connected');
    assert.deepEqual(connected.frame.json.refused ?? [], []);
    assert.ok(connected.frame.json.scopes.some((scope) => scope.startsWith('user:')), connected.frame.data);

    const t0 = Date.now();
    const created = await request(s.port, 'POST', '/api/v1/posts', { token: s.token, body: { title: 'live' } });
    assert.equal(created.status, 201);
    const answered = Date.now();
    const reval = await nextFrame(stream, isRevalidate('posts.list'), { from: connected.index + 1 });
    assert.ok(reval.at - answered < PROMPT, `revalidation arrived ${reval.at - answered} ms after the answer`);

    const sent = await request(s.port, 'POST', '/api/v1/notifications', { token: s.token, body: { text: 'hello via nginx' } });
    assert.equal(sent.status, 201, sent.body);
    const note = await nextFrame(stream, isNotification('hello via nginx'), { from: reval.index + 1 });
    assert.ok(note.at - Date.now() < PROMPT);
    assert.ok(note.at - t0 < 2 * PROMPT, `the two events took ${note.at - t0} ms`);
    stream.close();
  });

  test('a stream resumes with Last-Event-ID after a disconnect, missing nothing', TEST, async () => {
    const first = openStream(s.port, { token: s.token });
    const connected = await nextFrame(first, (f) => f.event === 'connected');
    const lastId = connected.frame.id;
    first.close();
    await first.ended;

    // Missed while disconnected: two posts and a notification.
    for (const title of ['missed 1', 'missed 2'])
      assert.equal((await request(s.port, 'POST', '/api/v1/posts', { token: s.token, body: { title } })).status, 201);
    await request(s.port, 'POST', '/api/v1/notifications', { token: s.token, body: { text: 'missed note' } });

    const again = openStream(s.port, { token: s.token, lastEventId: lastId });
    const back = await nextFrame(again, (f) => f.event === 'connected');
    assert.equal(back.frame.json.lastEventId, lastId);
    assert.notEqual(back.frame.json.resync, true);
    const note = await nextFrame(again, isNotification('missed note'), { from: back.index + 1 });
    // (The stream query's own first message, sent on every connection, has no id: it is not an event.)
    // (Presence's own `presence.online` revalidations, when the stream's reconnect changed who is online,
    // are the demo's online list, not what this test missed.)
    const replayed = again.frames.slice(back.index + 1, note.index + 1)
      .filter((f) => f.id && f.json?.data?.queryKeys?.[0] !== 'presence.online');
    assert.deepEqual(replayed.map((f) => f.event), ['revalidate', 'revalidate', 'message'], JSON.stringify(replayed));
    assert.deepEqual(replayed.map((f) => f.json.data.queryKeys?.[0] ?? f.json.data.text),
                     ['posts.list', 'posts.list', 'missed note']);
    // Then live again.
    await request(s.port, 'POST', '/api/v1/notifications', { token: s.token, body: { text: 'after resume' } });
    await nextFrame(again, isNotification('after resume'), { from: note.index + 1, timeout: PROMPT });
    again.close();
  });

  test('the demo sees the client address nginx forwards, and a client cannot spoof it', TEST, async () => {
    // Through nginx, from 127.0.0.2, claiming another address: nginx appends the real one.
    const proxied = await request(s.port, 'GET', '/api/v1/posts/990001', { headers: { 'X-Forwarded-For': '203.0.113.9' } });
    assert.equal(proxied.status, 404);
    // Straight to the demo from 127.0.0.2 (not a trusted proxy), claiming another address.
    const direct = await request(s.appPort, 'GET', '/api/v1/posts/990002', {
      headers: { 'X-Forwarded-For': '203.0.113.9', 'X-Real-IP': '203.0.113.9' } });
    assert.equal(direct.status, 404);
    const line = (target) => waitFor(`the log line of ${target}`, () =>
      s.demo.output.split('\n').find((l) => l.includes(`GET ${target} 404`)));
    assert.match(await line('/api/v1/posts/990001'), / client=127\.0\.0\.2$/);
    assert.match(await line('/api/v1/posts/990002'), / client=127\.0\.0\.2$/);
  });

  test('a graceful restart: streams end, nginx keeps streams retrying, the client comes back and resyncs', TEST, async () => {
    const client = new ReconnectingStream(s.port, { token: s.token });
    await waitFor('the first connection', () => client.connects.length === 1);
    await request(s.port, 'POST', '/api/v1/posts', { token: s.token, body: { title: 'before restart' } });
    await waitFor('the revalidation', () => client.frames.some(isRevalidate('posts.list')));

    const { code, signal } = await s.restart();
    assert.equal(code, 0, `the demo exited with ${code ?? signal}:\n${s.demo.output.slice(-2000)}`);
    assert.ok(s.stopMs < 3000, `SIGTERM took ${s.stopMs} ms to stop the demo`);
    assert.match(s.demo.output, /received SIGTERM, shutting down/);

    // While the app is down: API calls answer 502; the stream answers an event stream that ends with a
    // retry hint, which a browser's EventSource reconnects after (it gives up for good on a 502).
    assert.equal((await request(s.port, 'GET', '/api/v1/posts')).status, 502);
    const down = await request(s.port, 'GET', '/api/v1/sse/events?channels=revalidation');
    assert.equal(down.status, 200);
    assert.match(down.headers['content-type'], /^text\/event-stream/);
    assert.equal(down.body, 'retry: 2000\n\n');

    s.demo = await startDemo({ port: s.appPort, dataDir: s.dataDir, store: s.storeUrl() });
    await waitFor('the client to reconnect', () => client.connects.length === 2, 10000);
    const back = client.connects[1];
    // The memory store's history died with the process: the client is told to refetch everything.
    assert.equal(back.resync, true, JSON.stringify(back));
    await waitFor('the refetch-all revalidation', () => client.frames.some((f) => f.event === 'revalidate' &&
      JSON.stringify(f.json?.data?.queryKeys) === '[""]'));
    assert.ok(back.scopes.some((scope) => scope.startsWith('user:')), 'the session survived the restart');
    // The data did too, and the stream is live.
    const list = await request(s.port, 'GET', '/api/v1/posts');
    assert.ok(list.json.data.posts.some((p) => p.title === 'before restart'));
    await request(s.port, 'POST', '/api/v1/notifications', { token: s.token, body: { text: 'after restart' } });
    await waitFor('a live event after the restart', () => client.frames.some(isNotification('after restart')), PROMPT);
    await client.close();
  });
});

describe('the demo behind nginx (Redis store): a restart loses no event', { skip: skip ?? (existsSync(REDIS) ? false : 'no redis-server') }, () => {
  let redis;
  let url;
  before(async () => {  // registered first, so it runs before the stage's
    const port = await freePort();
    redis = run(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {});
    await waitFor('redis to listen', () => canConnect(port));
    url = `redis://127.0.0.1:${port}`;
  });
  after(() => stop(redis));
  const s = stage(() => url);

  test('events published while the client was away are replayed after the restart', TEST, async () => {
    const client = new ReconnectingStream(s.port, { token: s.token });
    await waitFor('the first connection', () => client.connects.length === 1);
    await request(s.port, 'POST', '/api/v1/notifications', { token: s.token, body: { text: 'seen' } });
    await waitFor('the first event', () => client.frames.some(isNotification('seen')));
    // The client goes away; an event is published; then the demo restarts.
    await client.close();
    await request(s.port, 'POST', '/api/v1/notifications', { token: s.token, body: { text: 'missed' } });
    const { code } = await s.restart();
    assert.equal(code, 0);
    s.demo = await startDemo({ port: s.appPort, dataDir: s.dataDir, store: url });

    const again = new ReconnectingStream(s.port, { token: s.token, lastId: client.lastId });
    await waitFor('the new connection', () => again.connects.length >= 1);
    assert.notEqual(again.connects[0].resync, true, JSON.stringify(again.connects[0]));
    assert.equal(again.connects[0].lastEventId, client.lastId);
    await waitFor('the missed event', () => again.frames.some(isNotification('missed')));
    assert.equal(again.frames.filter(isNotification('seen')).length, 0, 'nothing is replayed twice');
    await again.close();
  });
});

describe('docs/deploy.md', () => {
  const doc = readFileSync(path.join(root, 'docs/deploy.md'), 'utf8');
  const blocks = (lang) => [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);

  test('its C++ is a verbatim excerpt of the demo', () => {
    const main = readFileSync(path.join(root, 'examples/posts/main.cpp'), 'utf8');
    assert.ok(blocks('cpp').length > 0);
    for (const block of blocks('cpp')) assert.ok(main.includes(block), `not in examples/posts/main.cpp:\n${block}`);
  });

  test('its nginx snippets are accepted by nginx -t in the site\'s server block', { skip: skip ?? false }, () => {
    assert.ok(blocks('nginx').length > 0);
    for (const block of blocks('nginx')) {
      const dir = mkdtempSync(path.join(scratch, 'snippet-'));
      const site = readFileSync(path.join(root, 'deploy/nginx.conf'), 'utf8')
        .replace(/listen 8080\b/, 'listen 127.0.0.1:1')
        .replace(/\n}\s*$/, `\n${block}}\n`);
      writeFileSync(path.join(dir, 'site.conf'), site);
      writeFileSync(path.join(dir, 'nginx.conf'), readFileSync(path.join(here, 'nginx-wrapper.conf.in'), 'utf8')
        .replace(/@DIR@/g, dir).replace('@USER@', ''));
      const check = spawnSync(NGINX, ['-e', path.join(dir, 'error.log'), '-p', dir, '-c', path.join(dir, 'nginx.conf'), '-t'],
                              { encoding: 'utf8' });
      assert.equal(check.status, 0, `${block}\n${check.stderr}`);
    }
  });
});

describe('the systemd unit', () => {
  const analyze = '/usr/bin/systemd-analyze';
  test('deploy/igniter-posts.service passes systemd-analyze verify', { skip: existsSync(analyze) ? false : 'no systemd-analyze' }, () => {
    // verify checks that ExecStart exists: point it at the binary this build made (or any executable).
    const unit = readFileSync(path.join(root, 'deploy/igniter-posts.service'), 'utf8')
      .replace(/^ExecStart=\S+/m, `ExecStart=${serverPath && existsSync(serverPath) ? serverPath : '/bin/true'}`);
    const dir = mkdtempSync(path.join(scratch, 'unit-'));
    const file = path.join(dir, 'igniter-posts.service');
    writeFileSync(file, unit);
    const result = spawnSync(analyze, ['verify', file], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.trim(), '', result.stderr);
  });
});
