'use strict';
const assert = require('assert');
const { openIdempotencyStore } = require('../../dist/lib/stores');
const { storeKinds, delay, REDIS_URL } = require('./kinds');

describe('stores: idempotency store', function () {
  const env = storeKinds('gate');
  after(() => env.cleanup());
  let n = 0;
  const fresh = (kind) => openIdempotencyStore(env.options(kind, `gate-${kind}-${++n}`));

  for (const kind of env.kinds) {
    describe(kind, function () {
      let store;
      beforeEach(() => { store = fresh(kind); });
      afterEach(() => store.close());

      it('lets exactly one of a burst of concurrent acquires through', async function () {
        const results = await Promise.all(Array.from({ length: 50 }, () => store.acquire('order_100001', 60000)));
        assert.strictEqual(results.filter((r) => r.outcome === 'acquired').length, 1);
        assert.strictEqual(results.filter((r) => r.outcome === 'in-flight').length, 49);
        assert.deepStrictEqual(await store.counts(), { inFlight: 1, done: 0 });
      });

      it('a burst mixing new keys, repeats of one key and commits of held keys: each answered as if alone', async function () {
        const held = await Promise.all(['h1', 'h2', 'h3'].map((k) => store.acquire(k, 60000)));
        const calls = [
          ...Array.from({ length: 40 }, (_, i) => store.acquire(`new_${i}`, 60000)),
          ...Array.from({ length: 5 }, () => store.acquire('same', 60000)),
          ...held.map((a, i) => store.commit(`h${i + 1}`, a.token, { erp: i }, 60000)),
          store.commit('h1', 'not-the-token', { erp: 'x' }, 60000),
          store.acquire('h2', 60000),
        ];
        const out = await Promise.all(calls);
        assert.ok(out.slice(0, 40).every((r) => r.outcome === 'acquired'));
        assert.deepStrictEqual(out.slice(40, 45).map((r) => r.outcome).sort(), ['acquired', 'in-flight', 'in-flight', 'in-flight', 'in-flight']);
        assert.deepStrictEqual(out.slice(45, 48).map((r) => r.outcome), ['committed', 'committed', 'committed']);
        assert.deepStrictEqual(out[45].record.result, { erp: 0 });
        // Asked after the holder's commit: the stale token finds the key done; the acquire sees it done.
        assert.strictEqual(out[48].outcome, 'already-done');
        assert.strictEqual(out[49].outcome, 'done');
        assert.deepStrictEqual(out[49].record.result, { erp: 1 });
        assert.deepStrictEqual(await store.counts(), { inFlight: 41, done: 3 });
      });

      it('commit marks done with the result; later acquires see done and the result', async function () {
        const a = await store.acquire('k1', 60000);
        assert.strictEqual(a.outcome, 'acquired');
        const c = await store.commit('k1', a.token, { erpOrderId: 'ERP-1' }, 3600000);
        assert.strictEqual(c.outcome, 'committed');
        const again = await store.acquire('k1', 60000);
        assert.strictEqual(again.outcome, 'done');
        assert.deepStrictEqual(again.record.result, { erpOrderId: 'ERP-1' });
        assert.strictEqual(again.record.key, 'k1');
        const second = await store.commit('k1', undefined, { erpOrderId: 'ERP-2' }, 3600000);
        assert.strictEqual(second.outcome, 'already-done');
        assert.deepStrictEqual(second.record.result, { erpOrderId: 'ERP-1' });
        assert.deepStrictEqual(await store.counts(), { inFlight: 0, done: 1 });
      });

      it('release frees the key for a retry; a stale token cannot release; done is never released', async function () {
        const a = await store.acquire('k2', 60000);
        assert.strictEqual(await store.release('k2', 'not-the-token'), 'stale');
        assert.strictEqual(await store.release('k2', a.token), 'released');
        assert.strictEqual(await store.release('k2', a.token), 'not-held');
        const b = await store.acquire('k2', 60000);
        assert.strictEqual(b.outcome, 'acquired');
        await store.commit('k2', b.token, 'ok', 60000);
        assert.strictEqual(await store.release('k2', undefined), 'done');
      });

      it('a lapsed lease frees the key (holder died), counts the attempt, and the late commit is flagged stale', async function () {
        const a = await store.acquire('k3', 40);
        await delay(80);
        const b = await store.acquire('k3', 60000);
        assert.strictEqual(b.outcome, 'acquired');
        assert.strictEqual(b.record.attempts, 2);
        const late = await store.commit('k3', a.token, 'from-a', 60000);
        assert.strictEqual(late.outcome, 'stale');
        assert.strictEqual((await store.acquire('k3', 60000)).outcome, 'done');
      });

      it('renew keeps the lease for its holder only', async function () {
        const a = await store.acquire('k4', 60);
        assert.strictEqual(await store.renew('k4', a.token, 60000), true);
        assert.strictEqual(await store.renew('k4', 'other', 60000), false);
        await delay(100);
        assert.strictEqual((await store.acquire('k4', 60000)).outcome, 'in-flight');
      });

      it('a holder takes its own in-flight key again (its earlier attempt is gone); another holder, or none, cannot', async function () {
        const first = await store.acquire('k6', 60000, 'retry:entry-1');
        assert.strictEqual(first.outcome, 'acquired');
        assert.strictEqual(first.record.holder, 'retry:entry-1');
        assert.strictEqual((await store.acquire('k6', 60000)).outcome, 'in-flight');
        assert.strictEqual((await store.acquire('k6', 60000, 'retry:entry-2')).outcome, 'in-flight');
        const again = await store.acquire('k6', 60000, 'retry:entry-1');
        assert.strictEqual(again.outcome, 'acquired');
        assert.notStrictEqual(again.token, first.token);
        assert.strictEqual(again.record.attempts, 2);
        // The old attempt's token no longer holds the key; the new one commits.
        assert.strictEqual(await store.release('k6', first.token), 'stale');
        assert.strictEqual((await store.commit('k6', again.token, 'ok', 60000)).outcome, 'committed');
        // Done stays done, whoever asks.
        assert.strictEqual((await store.acquire('k6', 60000, 'retry:entry-1')).outcome, 'done');
        // A key taken without a holder is not taken over by one.
        await store.acquire('k7', 60000);
        assert.strictEqual((await store.acquire('k7', 60000, 'retry:entry-1')).outcome, 'in-flight');
        await assert.rejects(store.acquire('k8', 60000, ''), /holder/);
      });

      it('park: a failed attempt keeps its key for the retry queue; other copies are held back, the first retry takes it', async function () {
        const first = await store.acquire('order_p1', 60000);
        assert.strictEqual(await store.park('order_p1', 'someone-else', 60000), 'stale', 'only the holder parks');
        assert.strictEqual(await store.park('order_p1', first.token, 600000), 'parked');
        const parked = await store.peek('order_p1');
        assert.deepStrictEqual([parked.state, parked.holder, parked.attempts], ['in-flight', 'retry:*', 1]);
        assert.ok(parked.leaseUntil > Date.now() + 300000, 'the lease is the one asked for when parking');
        // A poll re-reading the order, the webhook sent again: held back.
        assert.strictEqual((await store.acquire('order_p1', 60000)).outcome, 'in-flight');
        // The retry queue sends the message again (its entry id as holder): it takes the key at once.
        const retried = await store.acquire('order_p1', 60000, 'retry:entry-9');
        assert.strictEqual(retried.outcome, 'acquired');
        assert.strictEqual(retried.record.holder, 'retry:entry-9');
        assert.strictEqual(retried.record.attempts, 2);
        // Taken: a second retry entry for the same key (a copy queued before parking) is held back now.
        assert.strictEqual((await store.acquire('order_p1', 60000, 'retry:entry-10')).outcome, 'in-flight');
        // Failed again: parked again by its new token (the old one no longer holds it), then committed by the next retry.
        assert.strictEqual(await store.park('order_p1', first.token, 60000), 'stale');
        assert.strictEqual(await store.park('order_p1', retried.token, 60000), 'parked');
        const third = await store.acquire('order_p1', 60000, 'retry:entry-9');
        assert.strictEqual((await store.commit('order_p1', third.token, { erp: 'E9' }, 60000)).outcome, 'committed');
        assert.strictEqual(await store.park('order_p1', third.token, 60000), 'done', 'a done key is never parked');
        assert.strictEqual((await store.acquire('order_p1', 60000, 'retry:entry-10')).outcome, 'done');
        // Nothing to park when the key is not held; without a token, whoever holds it is parked.
        assert.strictEqual(await store.park('order_p2', undefined, 60000), 'not-held');
        await store.acquire('order_p2', 60000);
        assert.strictEqual(await store.park('order_p2', undefined, 60000), 'parked');
        assert.strictEqual((await store.peek('order_p2')).holder, 'retry:*');
        // A parked key whose lease ran out is free for anyone.
        const short = await store.acquire('order_p3', 60000);
        assert.strictEqual(await store.park('order_p3', short.token, 30), 'parked');
        await delay(60);
        assert.strictEqual((await store.acquire('order_p3', 60000)).outcome, 'acquired');
      });

      it('ends the leases of keys taken before a time (a previous process), only where no other process shares the store', async function () {
        if (kind === 'redis') {
          assert.strictEqual(store.endLeasesTakenBefore, undefined, 'a shared store must not free keys other instances may hold');
          return;
        }
        const old = await store.acquire('k9', 600000);
        const done = await store.acquire('k10', 600000);
        await store.commit('k10', done.token, 'ok', 600000);
        // A key parked before the cut keeps its lease: its message waits in the retry queue, which sends it again.
        const parked = await store.acquire('k12', 600000);
        assert.strictEqual(await store.park('k12', parked.token, 600000), 'parked');
        assert.deepStrictEqual(await store.endLeasesTakenBefore(old.record.updatedAt - 1), [], 'a key taken later keeps its lease');
        await delay(5);
        const cut = Date.now();
        await delay(5);
        const later = await store.acquire('k11', 600000);
        const ended = await store.endLeasesTakenBefore(cut);
        assert.deepStrictEqual(ended.map((r) => [r.key, r.state, r.attempts]), [['k9', 'in-flight', 1]]);
        assert.ok(ended[0].leaseUntil <= Date.now());
        assert.deepStrictEqual(await store.endLeasesTakenBefore(cut), [], 'ended once');
        const again = await store.acquire('k9', 600000);
        assert.strictEqual(again.outcome, 'acquired');
        assert.strictEqual(again.record.attempts, 2);
        assert.strictEqual((await store.acquire('k10', 600000)).outcome, 'done');
        assert.strictEqual((await store.acquire('k11', 600000)).outcome, 'in-flight');
        assert.strictEqual(await store.release('k11', later.token), 'released');
        assert.strictEqual((await store.acquire('k12', 600000)).outcome, 'in-flight', 'the parked key is still held');
        assert.strictEqual((await store.acquire('k12', 600000, 'retry:e12')).outcome, 'acquired');
      });

      it('done keys expire after their TTL', async function () {
        const a = await store.acquire('k5', 60000);
        await store.commit('k5', a.token, null, 40);
        await delay(80);
        assert.strictEqual(await store.peek('k5'), undefined);
        assert.strictEqual((await store.acquire('k5', 60000)).outcome, 'acquired');
      });

      it('forget removes a done key so it can be sent again', async function () {
        const a = await store.acquire('k6', 60000);
        await store.commit('k6', a.token, 1, 60000);
        assert.strictEqual(await store.forget('k6'), true);
        assert.strictEqual(await store.forget('k6'), false);
        assert.strictEqual((await store.acquire('k6', 60000)).outcome, 'acquired');
      });

      it('commit without a prior acquire records done (the work succeeded)', async function () {
        const c = await store.commit('k7', undefined, { id: 7 }, 60000);
        assert.strictEqual(c.outcome, 'committed');
        assert.deepStrictEqual((await store.peek('k7')).result, { id: 7 });
      });

      it('purgeExpired drops expired records and keeps live ones', async function () {
        for (let i = 0; i < 5; i++) { const a = await store.acquire(`p${i}`, 60000); await store.commit(`p${i}`, a.token, i, 20); }
        await store.acquire('live', 60000);
        await delay(50);
        await store.purgeExpired(100);
        assert.deepStrictEqual(await store.counts(), { inFlight: 1, done: 0 });
      });
    });
  }

  it('sqlite: a done key survives closing and reopening the file (restart)', async function () {
    const a = openIdempotencyStore(env.options('sqlite', 'gate-restart'));
    const t = await a.acquire('order_1', 60000);
    await a.commit('order_1', t.token, { erpOrderId: 'E1' }, 3600000);
    const held = await a.acquire('order_2', 60000);
    await a.close();
    const b = openIdempotencyStore(env.options('sqlite', 'gate-restart'));
    const again = await b.acquire('order_1', 60000);
    assert.strictEqual(again.outcome, 'done');
    assert.deepStrictEqual(again.record.result, { erpOrderId: 'E1' });
    assert.strictEqual((await b.acquire('order_2', 60000)).outcome, 'in-flight');
    assert.strictEqual(await b.release('order_2', held.token), 'released');
    await b.close();
  });

  it('sqlite: a gate file written before holders existed gets the column and keeps its keys', async function () {
    const sqlite3 = require('sqlite3');
    const { sqliteFile } = require('../../dist/lib/stores/sqlite-db');
    const options = env.options('sqlite', 'gate-old-file');
    const file = sqliteFile(options.directory, 'gate-old-file');
    await new Promise((resolve, reject) => {
      const db = new sqlite3.Database(file, (err) => {
        if (err) return reject(err);
        db.exec(`CREATE TABLE gate (key TEXT PRIMARY KEY, state TEXT NOT NULL, token TEXT, result TEXT, created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL, lease_until INTEGER, expires_at INTEGER, attempts INTEGER NOT NULL DEFAULT 1);
          INSERT INTO gate VALUES ('order_9', 'done', NULL, '{"erpOrderId":"E9"}', 1, 1, NULL, ${Date.now() + 3600000}, 1);`,
        (e) => db.close(() => (e ? reject(e) : resolve())));
      });
    });
    const store = openIdempotencyStore(options);
    try {
      const old = await store.acquire('order_9', 60000, 'retry:x');
      assert.strictEqual(old.outcome, 'done');
      assert.deepStrictEqual(old.record.result, { erpOrderId: 'E9' });
      const held = await store.acquire('order_10', 60000, 'retry:x');
      assert.strictEqual(held.outcome, 'acquired');
      assert.strictEqual((await store.acquire('order_10', 60000, 'retry:x')).outcome, 'acquired');
    } finally {
      await store.close();
    }
  });

  it('redis: two separate connections (two instances) racing on one key: exactly one passes', async function () {
    // Different URL strings = different ioredis connections, as two Node-RED processes would have.
    const a = openIdempotencyStore({ ...env.options('redis', 'gate-shared'), redisUrl: REDIS_URL });
    const b = openIdempotencyStore({ ...env.options('redis', 'gate-shared'), redisUrl: `${REDIS_URL}/0` });
    for (let round = 0; round < 20; round++) {
      const key = `order_${round}`;
      const results = await Promise.all([a.acquire(key, 60000), b.acquire(key, 60000), a.acquire(key, 60000), b.acquire(key, 60000)]);
      assert.strictEqual(results.filter((r) => r.outcome === 'acquired').length, 1, `round ${round}`);
    }
    await a.close();
    await b.close();
  });
});
