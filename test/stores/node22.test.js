'use strict';
// Node-RED 5 runs on Node 22+, Node-RED 4.1 on Node 20, and one install must serve both: the SQLite
// binding is a Node-API addon, so the build in node_modules loads under either. This runs the compiled
// stores under a real Node 22 (the `node` package from the npm registry, through npx), writes through
// every SQLite store and the audit log there, and reads the same files back here under this Node.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { execFile } = require('child_process');
const { openKeyValueStore, openIdempotencyStore, openRetryQueueStore } = require('../../dist/lib/stores');
const { AuditLog } = require('../../dist/lib/audit');
const { tempDir } = require('./kinds');

const ROOT = path.resolve(__dirname, '../..');
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';

function node22(args, timeout) {
  return new Promise((resolve) => {
    execFile(NPX, ['-y', '-p', 'node@22', 'node', ...args], { cwd: ROOT, timeout, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      resolve({ error, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

// Runs in Node 22: every write awaited, then one JSON line with what it read back.
const SCRIPT = `
const dir = process.argv[1];
const stores = require(${JSON.stringify(path.join(ROOT, 'dist/lib/stores'))});
const { AuditLog } = require(${JSON.stringify(path.join(ROOT, 'dist/lib/audit'))});
(async () => {
  const kv = stores.openKeyValueStore({ kind: 'sqlite', name: 'kv22', directory: dir, purgeIntervalMs: 0 });
  await kv.set('cursor', { updatedAt: '2024-05-01 10:00:00', entityId: 42 });
  const gate = stores.openIdempotencyStore({ kind: 'sqlite', name: 'gate22', directory: dir, purgeIntervalMs: 0 });
  const a = await gate.acquire('order_100001', 60000);
  await gate.commit('order_100001', a.token, { erpOrderId: 'ERP-22' }, 3600000);
  const queue = stores.openRetryQueueStore({ kind: 'sqlite', name: 'queue22', directory: dir });
  await queue.put({ id: 'r1', state: 'dead', message: { payload: { sku: 'A' } }, attempt: 3, firstFailedAt: 1, updatedAt: 2, nextAttemptAt: 3, reason: 'max attempts', history: [] });
  const audit = new AuditLog({ directory: dir });
  audit.record({ time: '2024-05-01T10:00:00.000Z', store: 'shop-a', method: 'GET', route: '/rest/V1/orders', operation: 'orders.list', status: 200, durationMs: 5 });
  const out = {
    version: process.version,
    modules: process.versions.modules,
    cursor: await kv.get('cursor'),
    again: (await gate.acquire('order_100001', 60000)).outcome,
    dead: (await queue.counts()).dead,
    audited: (await audit.query()).length,
  };
  await Promise.all([kv.close(), gate.close(), queue.close(), audit.close()]);
  process.stdout.write(JSON.stringify(out) + '\\n');
})().catch((err) => { console.error(err); process.exit(1); });
`;

describe('stores: SQLite under Node 22 (Node-RED 5) from the same install', function () {
  this.timeout(300000);
  let dir;
  before(async function () {
    // The only reason to skip: no Node 22 binary can be had (offline, no registry). Everything after this must pass.
    const probe = await node22(['-p', 'process.versions.node'], 240000);
    if (probe.error || !/^22\./.test(probe.stdout.trim())) {
      console.warn(`      SKIPPED: node@22 could not be obtained through npx (${(probe.error && probe.error.message) || probe.stdout.trim()}), so the Node 22 check did not run`);
      this.skip();
    }
  });
  beforeEach(() => { dir = tempDir('node22'); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('opens every SQLite store and the audit log under Node 22, writes and reads; Node 20 reads the same files', async function () {
    const run = await node22(['-e', SCRIPT, dir], 120000);
    assert.ifError(run.error && new Error(`${run.error.message}\n${run.stderr}`));
    const out = JSON.parse(run.stdout.trim().split('\n').pop());
    // Under Node 20 the ABI (process.versions.modules) differs: a V8-ABI addon built here would not load there.
    assert.match(out.version, /^v22\./);
    assert.deepStrictEqual(out, { version: out.version, modules: out.modules, cursor: { updatedAt: '2024-05-01 10:00:00', entityId: 42 }, again: 'done', dead: 1, audited: 1 });

    const kv = openKeyValueStore({ kind: 'sqlite', name: 'kv22', directory: dir, purgeIntervalMs: 0 });
    const gate = openIdempotencyStore({ kind: 'sqlite', name: 'gate22', directory: dir, purgeIntervalMs: 0 });
    const queue = openRetryQueueStore({ kind: 'sqlite', name: 'queue22', directory: dir });
    const audit = new AuditLog({ directory: dir });
    try {
      assert.deepStrictEqual(await kv.get('cursor'), { updatedAt: '2024-05-01 10:00:00', entityId: 42 });
      assert.deepStrictEqual((await gate.peek('order_100001')).result, { erpOrderId: 'ERP-22' });
      assert.strictEqual((await queue.get('r1')).reason, 'max attempts');
      assert.strictEqual((await audit.query({ operation: 'orders.list' })).length, 1);
    } finally {
      await Promise.all([kv.close(), gate.close(), queue.close(), audit.close()]);
    }
  });
});
