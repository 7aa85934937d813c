// Takes docs/images/demo.png from the real demo page in headless Chromium: two users, a post created by
// one appearing live on the other's page, a targeted notification. Usage (after `make demo` built it):
//   node scripts/screenshot-demo.mjs build/release/examples/posts/posts
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

// playwright-core as the page's browser tests use it (scripts/setup-web.sh installs it there).
const require = createRequire(new URL('../examples/posts/web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const binary = process.argv[2] ?? 'build/release/examples/posts/posts';
const port = 3900 + Math.floor(Math.random() * 90);
const server = spawn(binary, [], {
  env: { ...process.env, PORT: String(port), DATA_DIR: mkdtempSync(join(tmpdir(), 'posts-')) },
  stdio: 'inherit',
});
const url = `http://127.0.0.1:${port}/`;
for (let i = 0; i < 50; i++) {
  try { await fetch(url); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
}
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
try {
  const login = async (name) => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    const page = await context.newPage();
    await page.goto(url);
    await page.fill('#login-form input[name="username"]', name);
    await page.click('#login-form button');
    await page.waitForSelector('#create-section:not([hidden])');
    return page;
  };
  const alice = await login('alice');
  const bob = await login('bob');
  await bob.fill('#create-form input[name="title"]', 'Hello from Bob');
  await bob.fill('#create-form textarea[name="content"]', 'Created in another browser: it appears here live.');
  await bob.click('#create-form button');
  await alice.waitForSelector('text=Hello from Bob');
  await bob.fill('#notify-form input[name="text"]', 'Your report is ready');
  await bob.fill('#notify-form input[name="to"]', 'alice');
  await bob.click('#notify-form button');
  await alice.waitForSelector('#bell-count:not([hidden])');
  await alice.click('#bell-button');
  await alice.waitForSelector('#bell-panel li:has-text("Your report is ready")');
  await alice.waitForTimeout(200);
  await alice.screenshot({ path: 'docs/images/demo.png' });
  console.log('wrote docs/images/demo.png');
} finally {
  await browser.close();
  server.kill('SIGTERM');
}
