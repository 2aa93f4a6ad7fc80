'use strict';
// What the async bulk mode costs in HTTP calls: bulk requests per round, status polls with backoff, look-ups.
// Time is faked (sinon) so the poll schedule is exact and the test never sleeps.
const assert = require('assert');
const sinon = require('sinon');
const { followBulk } = require('../../dist/lib/batching');
const { InventoryPush } = require('../../dist/lib/inventory');
const { fakeClient } = require('./fake-client');

/** Runs `promise` to its end while advancing the fake clock in `stepMs` steps (at most `maxMs`). */
async function settleWithClock(clock, promise, { stepMs = 100, maxMs = 600_000 } = {}) {
  let done = false;
  let error;
  let value;
  promise.then((v) => { value = v; done = true; }, (e) => { error = e; done = true; });
  for (let t = 0; !done && t <= maxMs; t += stepMs) await clock.tickAsync(stepMs);
  if (!done) throw new Error(`still running after ${maxMs} ms of fake time`);
  if (error) throw error;
  return value;
}

/**
 * A store's bulk API as Magento 2.4 runs it: the POST answers at once; the consumer applies each operation
 * (in submission order) `consumerDelayMs` after the bulk was accepted; status lists every operation.
 */
function bulkStore({ consumerDelayMs = 500, skus = [], failing = {} } = {}) {
  const sourceItems = new Map();
  const known = new Set(skus);
  const bulks = new Map();
  const queue = [];
  const counts = { bulkPosts: 0, polls: 0, productLookups: 0, sourceLookups: 0, bulkSizes: [], pollTimes: [] };
  const runConsumer = () => {
    while (queue.length && queue[0].due <= Date.now()) {
      const op = queue.shift();
      const item = op.body.sourceItems[0];
      const failure = failing[item.sku];
      if (failure) {
        op.status = failure.status;
        op.result_message = failure.message;
      } else {
        sourceItems.set(`${item.sku}|${item.source_code}`, item);
        op.status = 1;
      }
    }
  };
  const client = fakeClient((req) => {
    runConsumer();
    if (req.path === '/inventory/sources') {
      counts.sourceLookups++;
      return { items: [{ source_code: 'default' }], total_count: 1 };
    }
    if (req.path === '/products' && req.method === 'GET') {
      counts.productLookups++;
      const items = req.criteria.filterGroups[0][0].value.split(',').filter((s) => known.has(s)).map((sku) => ({ sku }));
      return { items, total_count: items.length };
    }
    if (req.path === '/inventory/source-items' && req.mode === 'bulk') {
      counts.bulkPosts++;
      counts.bulkSizes.push(req.body.length);
      const uuid = `bulk-${counts.bulkPosts}`;
      const ops = req.body.map((body, id) => ({ id, body, status: 4, result_message: null, due: Date.now() + consumerDelayMs }));
      bulks.set(uuid, ops);
      queue.push(...ops);
      return { bulk_uuid: uuid, request_items: ops.map((o) => ({ id: o.id, data_hash: 'h', status: 'accepted' })), errors: false };
    }
    const m = /^\/bulk\/([^/]+)\/detailed-status$/.exec(req.path);
    if (m) {
      counts.polls++;
      counts.pollTimes.push(Date.now());
      const ops = bulks.get(decodeURIComponent(m[1]));
      return { operations_list: ops.map((o) => ({ id: o.id, status: o.status, result_message: o.result_message })), operation_count: ops.length };
    }
    throw new Error(`unexpected ${req.method} ${req.path}`);
  });
  return { client, sourceItems, counts, runConsumer };
}

/** Seeded updates as an ERP sends them: `n` updates for `skus`, in messages of `chunk`. */
function workload(skus, n, chunk, seed = 7) {
  let x = seed >>> 0;
  const next = () => { // mulberry32
    x = (x + 0x6d2b79f5) >>> 0;
    let t = Math.imul(x ^ (x >>> 15), 1 | x);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
  const updates = Array.from({ length: n }, () => ({ sku: skus[next() % skus.length], qty: next() % 500 }));
  const messages = [];
  for (let i = 0; i < updates.length; i += chunk) messages.push(updates.slice(i, i + chunk));
  return messages;
}

describe('async bulk: HTTP calls', () => {
  let clock;
  beforeEach(() => { clock = sinon.useFakeTimers({ now: Date.UTC(2026, 0, 5, 9), toFake: ['setTimeout', 'clearTimeout', 'Date'] }); });
  afterEach(() => clock.restore());

  describe('followBulk', () => {
    it('waits before the first poll and backs off 1 s, 2 s, 4 s, 8 s, 10 s until every operation is final', async () => {
      const store = bulkStore({ consumerDelayMs: 20_000 });
      const submitted = await store.client.request({ method: 'POST', path: '/inventory/source-items', mode: 'bulk', body: [{ sourceItems: [{ sku: 'a', source_code: 'default', quantity: 1, status: 1 }] }] });
      const t0 = Date.now();
      const followed = await settleWithClock(clock, followBulk(store.client, submitted.bulk_uuid, { intervalMs: 1000, maxIntervalMs: 10_000, deadlineMs: 300_000, expected: 1 }));
      assert.strictEqual(followed.complete, true);
      assert.deepStrictEqual(store.counts.pollTimes.map((t) => t - t0), [1000, 3000, 7000, 15_000, 25_000]);
      assert.strictEqual(followed.polls, 5);
    });

    it('consumers not running: at most 33 polls over the 5-minute deadline, then timedOut', async () => {
      const store = bulkStore({ consumerDelayMs: Infinity });
      const submitted = await store.client.request({ method: 'POST', path: '/inventory/source-items', mode: 'bulk', body: [{ sourceItems: [{ sku: 'a', source_code: 'default', quantity: 1, status: 1 }] }] });
      const t0 = Date.now();
      const followed = await settleWithClock(clock, followBulk(store.client, submitted.bulk_uuid, { intervalMs: 1000, maxIntervalMs: 10_000, deadlineMs: 300_000, expected: 1 }), { stepMs: 1000 });
      assert.strictEqual(followed.timedOut, true);
      assert.strictEqual(followed.open, 1);
      assert.strictEqual(followed.polls, 33);
      assert.strictEqual(store.counts.pollTimes.at(-1) - t0, 300_000, 'the last poll is at the deadline');
    });
  });

  describe('InventoryPush in bulk mode', () => {
    it('50,000 updates for 10,000 SKUs in 50 messages: 3 bulk requests, 3 polls, the look-ups, latest quantity wins', async () => {
      const skus = Array.from({ length: 10_000 }, (_, k) => `S${String(k).padStart(5, '0')}`);
      const failing = {
        S00007: { status: 3, message: 'Could not save Source Item' },
        S00008: { status: 2, message: 'Deadlock found when trying to get lock' },
      };
      const store = bulkStore({ skus, failing });
      const results = [];
      const settled = [];
      const push = new InventoryPush(store.client, { mode: 'bulk', windowMs: 250 }, {
        onResult: (r) => results.push(r),
        onTicketSettled: (s) => settled.push(s),
      });
      const messages = workload(skus, 50_000, 1000);

      // The first message opens a window; its round is a bulk the consumer runs 500 ms later, polled after 1 s.
      await push.accept('m0', messages[0]);
      await clock.tickAsync(250);
      assert.strictEqual(store.counts.bulkPosts, 1);
      // The other 49 arrive while that bulk is followed (every 20 ms, about four windows' worth): they wait
      // and coalesce instead of making a bulk per window.
      for (let m = 1; m < messages.length; m++) {
        await push.accept(`m${m}`, messages[m]);
        await clock.tickAsync(20);
      }
      assert.strictEqual(store.counts.bulkPosts, 1, 'nothing more is sent while round 1 is followed');
      await settleWithClock(clock, push.flush());
      store.runConsumer();

      // Round 1: the first message's SKUs; round 2: every SKU the other 49 name, once, in bulks of 5,000.
      const first = new Set(messages[0].map((u) => u.sku));
      const rest = new Set(messages.slice(1).flat().map((u) => u.sku));
      const newInRest = [...rest].filter((s) => !first.has(s)).length;
      assert.deepStrictEqual(store.counts.bulkSizes, [first.size, 5000, rest.size - 5000]);
      assert.strictEqual(store.counts.polls, 3, 'one status call per bulk: each was complete at its first poll');
      assert.strictEqual(store.counts.sourceLookups, 1);
      assert.strictEqual(store.counts.productLookups, Math.ceil(first.size / 300) + Math.ceil(newInRest / 300));
      const total = store.client.calls.length;
      assert.strictEqual(total, 3 + 3 + 1 + store.counts.productLookups);
      assert.ok(total <= 100, `${total} calls for 50,000 updates (target: at most 100, 1/500 of one call per update)`);

      // Nothing lost: every update is either sent or superseded by a later one for its SKU.
      const lines = results.flatMap((r) => r.items);
      assert.strictEqual(lines.reduce((n, l) => n + 1 + (l.superseded ?? 0), 0), 50_000);
      assert.strictEqual(settled.length, 50, 'every message settles');
      // The latest quantity per SKU is what the store holds.
      const latest = new Map();
      for (const u of messages.flat()) latest.set(u.sku, u.qty);
      for (const [sku, qty] of latest) {
        if (failing[sku]) continue;
        assert.strictEqual(store.sourceItems.get(`${sku}|default`)?.quantity, qty, sku);
      }
      // Failed operations surface per item: not retriable → rejected with Magento's message; retriable → failed, to retry.
      const lastLine = (sku) => lines.filter((l) => l.sku === sku).at(-1);
      assert.deepStrictEqual([lastLine('S00007').outcome, lastLine('S00007').reason], ['rejected', 'Could not save Source Item']);
      assert.strictEqual(lastLine('S00008').outcome, 'failed');
      const toRetry = settled.flatMap((s) => s.failed);
      assert.ok(toRetry.length >= 1);
      assert.ok(toRetry.every((f) => f.entry.value.sku === 'S00008' && f.error.errorClass === 'transient'));
      assert.ok(results.filter((r) => r.phase === 'send').every((r) => /^bulk-\d+$/.test(r.bulkUuid)));
    });
  });
});
