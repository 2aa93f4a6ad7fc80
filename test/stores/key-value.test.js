'use strict';
const assert = require('assert');
const { openKeyValueStore } = require('../../dist/lib/stores');
const { storeKinds, delay } = require('./kinds');

describe('stores: key/value store', function () {
  const env = storeKinds('kv');
  after(() => env.cleanup());

  for (const kind of env.kinds) {
    describe(kind, function () {
      let store;
      beforeEach(() => { store = openKeyValueStore(env.options(kind, `kv-${kind}-${Math.random().toString(36).slice(2, 8)}`)); });
      afterEach(() => store.close());

      it('round-trips JSON values and deletes', async function () {
        const value = { cursor: { updatedAt: '2024-05-01 10:00:00', entityId: 42 }, items: [], ok: true };
        await store.set('read-orders:default:n1', value);
        assert.deepStrictEqual(await store.get('read-orders:default:n1'), value);
        assert.strictEqual(await store.delete('read-orders:default:n1'), true);
        assert.strictEqual(await store.get('read-orders:default:n1'), undefined);
        assert.strictEqual(await store.delete('read-orders:default:n1'), false);
      });

      it('setIfAbsent writes once, even when many race', async function () {
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.setIfAbsent('k', i, 60000)));
        assert.strictEqual(results.filter(Boolean).length, 1);
        assert.strictEqual(await store.get('k'), results.indexOf(true));
      });

      it('compareAndSet compares by value, not key order', async function () {
        await store.set('sku:A', { ts: 1, source: 'default' });
        assert.strictEqual(await store.compareAndSet('sku:A', { source: 'default', ts: 1 }, { ts: 2, source: 'default' }), true);
        assert.strictEqual(await store.compareAndSet('sku:A', { ts: 1, source: 'default' }, { ts: 3, source: 'default' }), false);
        assert.deepStrictEqual(await store.get('sku:A'), { ts: 2, source: 'default' });
        assert.strictEqual(await store.compareAndSet('absent', undefined, 1), true);
        assert.strictEqual(await store.compareAndSet('absent', undefined, 2), false);
      });

      it('expires keys after their TTL and treats them as absent', async function () {
        await store.set('short', 'x', 40);
        await store.set('long', 'y');
        await delay(80);
        assert.strictEqual(await store.get('short'), undefined);
        assert.strictEqual(await store.setIfAbsent('short', 'z', 1000), true);
        assert.strictEqual(await store.get('long'), 'y');
      });

      it('rejects an empty key with the field named', async function () {
        await assert.rejects(() => store.set('', 1), /key: must be a non-empty string/);
      });
    });
  }

  it('sqlite: purgeExpired removes expired rows a batch at a time', async function () {
    const store = openKeyValueStore(env.options('sqlite', 'kv-purge'));
    for (let i = 0; i < 30; i++) await store.set(`k${i}`, i, 10);
    await store.set('keep', 1);
    await delay(30);
    assert.strictEqual(await store.purgeExpired(20), 20);
    assert.strictEqual(await store.purgeExpired(20), 10);
    assert.strictEqual(await store.get('keep'), 1);
    await store.close();
  });

  it('sqlite: survives closing and reopening the file', async function () {
    const a = openKeyValueStore(env.options('sqlite', 'kv-reopen'));
    await a.set('cursor', { page: 3 });
    await a.close();
    const b = openKeyValueStore(env.options('sqlite', 'kv-reopen'));
    assert.deepStrictEqual(await b.get('cursor'), { page: 3 });
    await b.close();
  });

  it('refuses unknown kinds and bad names', function () {
    assert.throws(() => openKeyValueStore({ kind: 'mongo', name: 'x' }), /kind: must be one of memory, sqlite, redis/);
    assert.throws(() => openKeyValueStore({ kind: 'memory', name: '../etc' }), /name: store name must be/);
    assert.throws(() => openKeyValueStore({ kind: 'sqlite', name: 'x' }), /directory: a directory is needed/);
  });
});
