// Test harness: a fresh demo registry served by `yrd-ets serve`, and Debian's Chromium driven by
// playwright-core. Nothing is downloaded: the browser is /usr/bin/chromium.

import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BIN = process.env.YRD_ETS_BIN;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// The demo users `yrd-ets demo --service` creates (see crates/cli/src/service_demo.rs).
export const DEMO_PASSWORD = 'yrd-demo-password';

/** A free TCP port on the loopback interface. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Waits until GET url answers 200, or fails after `ms`. */
async function waitReady(url, ms, child) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`yrd-ets serve exited with ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready after ${ms} ms`);
}

/**
 * Creates the demo registry with users, starts the server on a free port with the demo's clock,
 * and launches Chromium. Returns { base, browser, stop }.
 */
export async function start() {
  if (!BIN) throw new Error('YRD_ETS_BIN must name the yrd-ets binary (scripts/e2e sets it)');
  const dir = mkdtempSync(join(tmpdir(), 'yrd-e2e-'));
  const dataDir = join(dir, 'reg');
  const demo = spawnSync(BIN, ['demo', '--service', '--data-dir', dataDir], {
    encoding: 'utf8',
    env: { ...process.env, YRD_DEMO_PASSWORD: DEMO_PASSWORD },
  });
  if (demo.status !== 0) {
    throw new Error(`yrd-ets demo --service failed (${demo.status}):\n${demo.stderr}`);
  }
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(
    BIN,
    ['serve', '--data-dir', dataDir, '--bind', `127.0.0.1:${port}`, '--clock-start', '2022-01-24T10:00:00'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  server.stderr.on('data', (chunk) => {
    log += chunk;
  });
  await waitReady(`${base}/v1/ready`, 30_000, server);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  async function stop() {
    await browser.close();
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
  return { base, browser, stop, serverLog: () => log };
}

/** RFC 6238 one-time password (SHA-1, 6 digits, 30 s) of a base32 secret, at `time` (ms). */
export function totp(secretBase32, time = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretBase32.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(time / 1000 / 30)));
  const mac = createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return code.toString().padStart(6, '0');
}
