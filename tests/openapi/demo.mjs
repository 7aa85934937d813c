// Starting the posts demo for the tests here.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Starts the posts demo with `env` added; resolves with the process once it logs that it listens. */
export function startDemo(serverPath, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(serverPath, [], {
      env: { ...process.env, HOST: '127.0.0.1', IGNITER_STORE: 'memory', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`posts did not start listening within 10 s:\n${out}`));
    }, 10000);
    const onData = (chunk) => {
      out += chunk;
      if (out.includes('listening on')) {
        clearTimeout(timer);
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
