'use strict';
// Code that reads a store, decides and writes back relied on better-sqlite3 answering at once (nothing
// could run in between). With the asynchronous sqlite3 binding (and Redis) two such sequences on one
// key interleave unless they take turns; these check the ones that must not.
const assert = require('assert');
const fs = require('fs');
const { openKeyValueStore } = require('../../dist/lib/stores');
const { TimestampGuard } = require('../../dist/lib/batching/timestamps');
const { tempDir } = require('./kinds');

describe('stores: read-modify-write callers on an asynchronous store', function () {
  let dir;
  let kv;
  beforeEach(() => {
    dir = tempDir('async-callers');
    kv = openKeyValueStore({ kind: 'sqlite', name: 'push-timestamps', directory: dir, purgeIntervalMs: 0 });
  });
  afterEach(async () => {
    await kv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('timestamp guard: settles of one key finishing together never lower the applied timestamp', async function () {
    const guard = new TimestampGuard(kv, 'stock:shop-a:');
    for (let round = 0; round < 20; round++) {
      const sku = `SKU-${round}`;
      const newer = 2_000 + round;
      const older = 1_000 + round;
      guard.reserve(sku, newer);
      guard.reserve(sku, older);
      // The newer update's batch settles first, the older one's right behind it.
      await Promise.all([guard.settle(sku, newer, true), guard.settle(sku, older, true)]);
      assert.strictEqual(await guard.lastApplied(sku), newer, `round ${round}`);
      assert.deepStrictEqual(await guard.check(sku, older), { stale: true, newer, source: 'applied' });
    }
  });
});
