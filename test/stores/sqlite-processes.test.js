'use strict';
// Two Node processes on one SQLite store file (two Node-RED instances on one disk): the IMMEDIATE
// transactions and the busy timeout keep check-and-mark and claiming atomic across processes.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { openRetryQueueStore } = require('../../dist/lib/stores');
const { tempDir } = require('./kinds');

const WORKER = path.join(__dirname, 'sqlite-worker.js');

function worker(args) {
  const child = spawn(process.execPath, [WORKER, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.startsWith('ready\n')) resolve();
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  });
  const result = new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const line = out.split('\n').filter(Boolean).pop();
      try {
        const parsed = JSON.parse(line);
        if (parsed.error) reject(new Error(parsed.error));
        else if (code !== 0) reject(new Error(`worker exited with ${code}`));
        else resolve(parsed);
      } catch {
        reject(new Error(`worker printed no result (exit ${code}): ${out}`));
      }
    });
  });
  result.catch(() => undefined);
  return { ready, result, go: () => child.stdin.end('go\n') };
}

async function race(args) {
  const workers = args.map(worker);
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) w.go();
  return Promise.all(workers.map((w) => w.result));
}

describe('stores: two processes on one SQLite file', function () {
  this.timeout(60000);
  let dir;
  beforeEach(() => { dir = tempDir('sqlite-procs'); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('idempotency gate: every key is acquired by exactly one of two racing processes', async function () {
    const KEYS = 150;
    const [a, b] = await race([['gate', dir, 'gate-shared', String(KEYS)], ['gate', dir, 'gate-shared', String(KEYS)]]);
    const all = [...a.acquired, ...b.acquired];
    assert.strictEqual(all.length, KEYS, `a: ${a.acquired.length}, b: ${b.acquired.length}`);
    assert.strictEqual(new Set(all).size, KEYS);
  });

  it('retry queue: two processes claiming at once never claim the same entry', async function () {
    const ENTRIES = 300;
    const store = openRetryQueueStore({ kind: 'sqlite', name: 'queue-shared', directory: dir });
    const now = Date.now();
    for (let i = 0; i < ENTRIES; i++) {
      await store.put({ id: `e${i}`, state: 'pending', message: { payload: i }, attempt: 1, firstFailedAt: now, updatedAt: now, nextAttemptAt: now - 1000, history: [] });
    }
    await store.close();
    const [a, b] = await race([['claim', dir, 'queue-shared', 'inst-a'], ['claim', dir, 'queue-shared', 'inst-b']]);
    const all = [...a.claimed, ...b.claimed];
    assert.strictEqual(all.length, ENTRIES, `a: ${a.claimed.length}, b: ${b.claimed.length}`);
    assert.strictEqual(new Set(all).size, ENTRIES);
  });
});
