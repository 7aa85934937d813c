// Shared by the browser suites (tests/conformance, tests/e2e): bounded waits, stopping a server they started,
// and how Debian's chromium is launched here (headless, no sandbox as root, no background networking:
// this machine has no network).
import assert from 'node:assert/strict';

/** Where Debian's chromium lives (CHROMIUM overrides it). */
export const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Launch options for playwright-core's `chromium.launch`: a fresh temporary profile each time. */
export const chromiumLaunchOptions = {
  executablePath: chromiumPath,
  timeout: 30000,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
};

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every `interval` ms until it returns a truthy value; fails after `timeout` ms with `what`. */
export async function waitFor(what, probe, timeout = 5000, interval = 25) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) assert.fail(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
    await sleep(interval);
  }
}

/** Stops the server gracefully (SIGKILL after 5 s); resolves with its exit code, or the signal's name. */
export function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', (code, signal) => {
      clearTimeout(kill);
      resolve(code ?? signal);
    });
    child.kill('SIGTERM');
  });
}
