'use strict';
const assert = require('assert');
const { openRetryQueueStore } = require('../../dist/lib/stores');
const { storeKinds, REDIS_URL } = require('./kinds');

function entry(id, over = {}) {
  const now = 1_700_000_000_000;
  return {
    id,
    state: 'pending',
    message: { payload: { sku: id, items: [], qty: 0 }, topic: 'stock' },
    attempt: 1,
    firstFailedAt: now + Number(id.replace(/\D/g, '') || 0),
    updatedAt: now,
    nextAttemptAt: now + 1000,
    target: 'shop-a',
    history: [{ attempt: 1, time: new Date(now).toISOString(), errorClass: 'transient', message: 'HTTP 503', status: 503 }],
    ...over,
  };
}

describe('stores: retry queue store', function () {
  const env = storeKinds('queue');
  after(() => env.cleanup());
  let n = 0;
  const fresh = (kind) => openRetryQueueStore(env.options(kind, `queue-${kind}-${++n}`));

  for (const kind of env.kinds) {
    describe(kind, function () {
      let store;
      beforeEach(() => { store = fresh(kind); });
      afterEach(() => store.close());

      it('keeps the message exactly (empty arrays, zeros) and the history', async function () {
        await store.put(entry('e1'));
        const back = await store.get('e1');
        assert.deepStrictEqual(back, entry('e1'));
      });

      it('keeps awkward text and numbers exactly, through the bounded (batched) write and the plain one', async function () {
        const message = {
          payload: { body: '{"a":"b \\"quoted\\"","n":1}', text: 'Gr\u00fc\u00dfe \u2028 \ud83d\ude00 \\ / \t\n', big: 9007199254740991, tiny: 1e-7, neg: -0.5, nil: null, nested: [[], {}, [1, [2]]] },
          topic: 'odd',
        };
        // Several at once: the bounded writes share one batch statement.
        await Promise.all(['b1', 'b2', 'b3'].map((id) => store.put(entry(id, { message }), 100)));
        await store.put(entry('p1', { message }));
        for (const id of ['b1', 'b2', 'b3', 'p1']) assert.deepStrictEqual(await store.get(id), entry(id, { message }), id);
      });

      it('claims due entries once, in due order, and marks them in flight', async function () {
        const t = 1_700_000_000_000;
        await store.put(entry('e1', { nextAttemptAt: t + 300 }));
        await store.put(entry('e2', { nextAttemptAt: t + 100 }));
        await store.put(entry('e3', { nextAttemptAt: t + 900 }));
        assert.strictEqual(await store.nextDueAt(), t + 100);
        const claimed = await store.claimDue(t + 500, 10, 'inst-1', 30000);
        assert.deepStrictEqual(claimed.map((e) => e.id), ['e2', 'e1']);
        assert.ok(claimed.every((e) => e.state === 'in-flight' && e.owner === 'inst-1' && e.leaseUntil === t + 500 + 30000));
        assert.deepStrictEqual(await store.claimDue(t + 500, 10, 'inst-2', 30000), []);
        assert.strictEqual((await store.get('e1')).state, 'in-flight');
        assert.deepStrictEqual(await store.counts(), { pending: 1, inFlight: 2, dead: 0, finished: 0 });
      });

      it('refuses a new live entry when full, but still accepts dead letters and updates', async function () {
        assert.strictEqual(await store.put(entry('e1'), 2), true);
        assert.strictEqual(await store.put(entry('e2'), 2), true);
        assert.strictEqual(await store.put(entry('e3'), 2), false);
        assert.strictEqual(await store.get('e3'), undefined);
        assert.strictEqual(await store.put(entry('e1', { attempt: 2 }), 2), true);
        assert.strictEqual(await store.put(entry('d1', { state: 'dead' }), 2), true);
      });

      it('a burst of new entries at once never goes past the capacity; a burst of removes answers each id', async function () {
        await store.put(entry('e0'), 10);
        const put = await Promise.all(Array.from({ length: 25 }, (_, i) => store.put(entry(`e${i + 1}`), 10)));
        assert.strictEqual(put.filter(Boolean).length, 9);
        assert.strictEqual((await store.counts()).pending, 10);
        const ids = (await store.list({ state: 'pending', limit: 100 })).map((e) => e.id);
        const removed = await Promise.all([...ids, 'never-there', ids[0]].map((id) => store.remove(id)));
        assert.deepStrictEqual(removed, [...ids.map(() => true), false, false]);
        assert.strictEqual((await store.counts()).pending, 0);
      });

      it('lists by state oldest first, with limit and offset; removes one or a whole state', async function () {
        for (const id of ['e5', 'e1', 'e3']) await store.put(entry(id, { state: 'dead' }));
        await store.put(entry('e2'));
        assert.deepStrictEqual((await store.list({ state: 'dead' })).map((e) => e.id), ['e1', 'e3', 'e5']);
        assert.deepStrictEqual((await store.list({ state: 'dead', limit: 1, offset: 1 })).map((e) => e.id), ['e3']);
        assert.deepStrictEqual((await store.list()).map((e) => e.id), ['e1', 'e2', 'e3', 'e5']);
        assert.strictEqual(await store.remove('e3'), true);
        assert.strictEqual(await store.remove('e3'), false);
        assert.strictEqual(await store.removeByState('dead'), 2);
        assert.deepStrictEqual(await store.counts(), { pending: 1, inFlight: 0, dead: 0, finished: 0 });
        await assert.rejects(() => store.list({ state: 'lost' }), /state: must be one of/);
      });

      it('moving an entry between states keeps one copy', async function () {
        await store.put(entry('e1'));
        await store.put(entry('e1', { state: 'dead', reason: 'max attempts' }));
        assert.deepStrictEqual(await store.counts(), { pending: 0, inFlight: 0, dead: 1, finished: 0 });
        assert.strictEqual(await store.nextDueAt(), undefined);
      });
    });
  }

  it('sqlite: pending entries survive closing and reopening the file', async function () {
    const a = openRetryQueueStore(env.options('sqlite', 'queue-restart'));
    await a.put(entry('e1'));
    await a.close();
    const b = openRetryQueueStore(env.options('sqlite', 'queue-restart'));
    assert.deepStrictEqual(await b.get('e1'), entry('e1'));
    await b.close();
  });

  it('redis: two instances claiming concurrently never claim the same entry', async function () {
    const a = openRetryQueueStore(env.options('redis', 'queue-shared'));
    const b = openRetryQueueStore({ ...env.options('redis', 'queue-shared'), redisUrl: `${REDIS_URL}/0` });
    for (let i = 0; i < 40; i++) await a.put(entry(`e${i}`, { nextAttemptAt: 1 }));
    const claims = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => (i % 2 ? a : b).claimDue(Date.now(), 10, `inst-${i}`, 1000)));
    const ids = claims.flat().map((e) => e.id);
    assert.strictEqual(ids.length, 40);
    assert.strictEqual(new Set(ids).size, 40);
    await a.close();
    await b.close();
  });
});
