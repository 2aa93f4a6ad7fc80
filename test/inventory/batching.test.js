'use strict';
const assert = require('assert');
const sinon = require('sinon');
const {
  chunk, Coalescer, deliverInBatches, fixedLimit, LimitMemory, batchLimit, inputLimitOf, TimestampGuard, parseTimestamp,
  PushPipeline, summarize, matchOperations,
} = require('../../dist/lib/batching');
const { IntegrationError, ValidationError } = require('../../dist/lib/errors');

describe('batching helpers', () => {
  it('chunks by size', () => {
    assert.deepStrictEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    assert.deepStrictEqual(chunk([], 3), []);
  });

  describe('Coalescer', () => {
    let clock;
    beforeEach(() => { clock = sinon.useFakeTimers(); });
    afterEach(() => clock.restore());

    it('keeps the latest value per key and flushes after the window', () => {
      const flushed = [];
      const c = new Coalescer({ windowMs: 100, onFlush: (e) => flushed.push(e) });
      c.add('a', 1); c.add('b', 2); c.add('a', 3);
      clock.tick(99);
      assert.strictEqual(flushed.length, 0);
      clock.tick(1);
      assert.strictEqual(flushed.length, 1);
      const byKey = Object.fromEntries(flushed[0].map((e) => [e.key, e]));
      assert.strictEqual(byKey.a.value, 3);
      assert.deepStrictEqual(byKey.a.superseded, [1]);
      assert.strictEqual(byKey.b.value, 2);
    });

    it('refuses a value older than the waiting one by timestamp', () => {
      const c = new Coalescer({ windowMs: 100, onFlush: () => undefined });
      assert.strictEqual(c.add('a', 'new', 2000).accepted, true);
      const r = c.add('a', 'old', 1000);
      assert.strictEqual(r.accepted, false);
      assert.strictEqual(r.current.value, 'new');
    });

    it('flushes early at maxEntries and on demand', () => {
      const flushed = [];
      const c = new Coalescer({ windowMs: 1000, maxEntries: 2, onFlush: (e) => flushed.push(e.length) });
      c.add('a', 1); c.add('b', 1);
      assert.deepStrictEqual(flushed, [2]);
      c.add('c', 1); c.flush();
      assert.deepStrictEqual(flushed, [2, 1]);
    });

    it('keeps coalescing past the window while canFlush says no, then flushes once when due', () => {
      const flushed = [];
      let busy = true;
      const c = new Coalescer({ windowMs: 100, maxEntries: 10, canFlush: () => !busy, onFlush: (e) => flushed.push(e.map((x) => `${x.key}=${x.value}`)) });
      c.add('a', 1);
      clock.tick(100);
      assert.strictEqual(c.isDue, true);
      c.add('a', 2); c.add('b', 1);
      clock.tick(1000);
      assert.deepStrictEqual(flushed, [], 'no second window starts while due');
      busy = false;
      c.flushIfDue();
      assert.deepStrictEqual(flushed, [['a=2', 'b=1']]);
      c.flushIfDue();
      assert.strictEqual(flushed.length, 1, 'nothing due any more');
      busy = true;
      for (let i = 0; i < 10; i++) c.add(`k${i}`, i);
      assert.strictEqual(flushed.length, 2, 'maxEntries still bounds what waits');
    });
  });

  describe('deliverInBatches', () => {
    it('bisects a batch refused for a bad item and still lands the good ones', async () => {
      const landed = [];
      let calls = 0;
      const reports = await deliverInBatches(Array.from({ length: 8 }, (_, i) => i), {
        limit: fixedLimit(8),
        send: async (batch) => {
          calls++;
          if (batch.includes(5)) throw new ValidationError('sourceItems', 'Could not save Source Item');
          landed.push(...batch);
        },
      });
      assert.strictEqual(reports.length, 1);
      const outcomes = reports[0].items.map((d) => d.outcome);
      assert.deepStrictEqual(outcomes, ['ok', 'ok', 'ok', 'ok', 'ok', 'rejected', 'ok', 'ok']);
      assert.deepStrictEqual(landed.sort(), [0, 1, 2, 3, 4, 6, 7]);
      // 8 → 4+4 → (4 ok) + 2+2 → (2 ok) + 1+1: 1 + 2 + 2 + 2 = 7 calls
      assert.strictEqual(calls, 7);
      assert.strictEqual(reports[0].calls, 7);
    });

    it('splits and remembers on Maximum items', async () => {
      const memory = new LimitMemory();
      const sizes = [];
      const send = async (batch) => {
        sizes.push(batch.length);
        if (batch.length > 5) {
          const e = new IntegrationError('validation', 'Maximum items of type "\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface" is 5', { status: 400 });
          throw e;
        }
      };
      const limit = batchLimit(memory, 'x', () => 20);
      const first = await deliverInBatches(Array.from({ length: 20 }, (_, i) => i), { limit, send });
      assert.ok(first.every((r) => r.items.every((d) => d.outcome === 'ok')));
      assert.deepStrictEqual(sizes, [20, 5, 5, 5, 5]);
      assert.strictEqual(memory.learntFor('x'), 5);
      sizes.length = 0;
      const second = await deliverInBatches(Array.from({ length: 12 }, (_, i) => i), { limit, send });
      assert.deepStrictEqual(sizes, [5, 5, 2]);
      assert.strictEqual(second.length, 3);
      assert.deepStrictEqual(inputLimitOf({ inputLimit: { type: 't', max: 7 } }), { type: 't', max: 7 });
    });

    it('reports a transient whole-batch failure with its typed error and stops later batches', async () => {
      let calls = 0;
      const reports = await deliverInBatches([1, 2, 3, 4], {
        limit: fixedLimit(2),
        send: async () => { calls++; throw new IntegrationError('transient', 'Service Unavailable', { status: 503 }); },
      });
      assert.strictEqual(calls, 1);
      assert.strictEqual(reports.length, 2);
      for (const r of reports) {
        assert.ok(r.items.every((d) => d.outcome === 'failed' && d.error.errorClass === 'transient'));
        assert.strictEqual(r.error.status, 503);
      }
    });

    it('maps per-item rejections of a successful answer', async () => {
      const reports = await deliverInBatches(['a', 'b', 'c'], {
        limit: fixedLimit(3),
        send: async () => [{ index: 1, reason: 'no such SKU' }],
      });
      assert.deepStrictEqual(reports[0].items.map((d) => d.outcome), ['ok', 'rejected', 'ok']);
      assert.strictEqual(reports[0].items[1].reason, 'no such SKU');
    });
  });

  describe('timestamps', () => {
    it('parses epoch ms, seconds, ISO and Magento dates, refuses impossible dates', () => {
      assert.strictEqual(parseTimestamp(1700000000000), 1700000000000);
      assert.strictEqual(parseTimestamp(1700000000), 1700000000000);
      assert.strictEqual(parseTimestamp('2024-01-02 03:04:05'), Date.UTC(2024, 0, 2, 3, 4, 5));
      assert.strictEqual(parseTimestamp('2024-01-02T03:04:05Z'), Date.UTC(2024, 0, 2, 3, 4, 5));
      assert.ok(Number.isNaN(parseTimestamp('2024-02-31 00:00:00')));
      assert.ok(Number.isNaN(parseTimestamp('yesterday')));
      assert.strictEqual(parseTimestamp(undefined), undefined);
    });

    it('guards against older updates, applied or in flight', async () => {
      const map = new Map();
      const guard = new TimestampGuard({ get: async (k) => map.get(k), set: async (k, v) => { map.set(k, v); } }, 'p:');
      assert.strictEqual((await guard.check('k', 100)).stale, false);
      guard.reserve('k', 100);
      assert.deepStrictEqual(await guard.check('k', 50), { stale: true, newer: 100, source: 'in-flight' });
      await guard.settle('k', 100, true);
      assert.strictEqual(map.get('p:k'), 100);
      assert.strictEqual((await guard.check('k', 99)).source, 'applied');
      await guard.settle('k', 40, true);
      assert.strictEqual(map.get('p:k'), 100, 'never lowered');
    });
  });

  describe('PushPipeline', () => {
    it('coalesces across messages, settles every ticket and names the failed items to retry', async () => {
      const batches = [];
      const settled = [];
      const pipeline = new PushPipeline({
        windowMs: 0,
        dispatch: async (entries, report) => {
          report({
            calls: 1,
            results: entries.map((entry) => entry.value === 'bad'
              ? { entry, outcome: 'failed', reason: 'down', error: new IntegrationError('transient', 'down') }
              : { entry, outcome: 'ok' }),
          });
        },
        onBatch: (b) => batches.push(b),
        onTicketSettled: (s) => settled.push(s),
      });
      await pipeline.submit('m1', [{ ticket: 'm1', index: 0, key: 'a', value: 'x' }, { ticket: 'm1', index: 1, key: 'b', value: 'y' }]);
      await pipeline.submit('m2', [{ ticket: 'm2', index: 0, key: 'a', value: 'z' }, { ticket: 'm2', index: 1, key: 'c', value: 'bad' }]);
      assert.strictEqual(settled.length, 0);
      await pipeline.flush();
      assert.strictEqual(batches.length, 1);
      assert.strictEqual(batches[0].results.length, 3);
      const a = batches[0].results.find((r) => r.entry.key === 'a');
      assert.strictEqual(a.entry.value, 'z');
      assert.strictEqual(a.superseded, 1);
      const byTicket = Object.fromEntries(settled.map((s) => [s.ticket, s]));
      assert.strictEqual(byTicket.m1.failed.length, 0);
      assert.strictEqual(byTicket.m2.failed.length, 1);
      assert.strictEqual(byTicket.m2.failed[0].entry.index, 1);
      assert.strictEqual(byTicket.m2.error.errorClass, 'transient');
    });

    describe('windows that end while a round is in flight', () => {
      let clock;
      beforeEach(() => { clock = sinon.useFakeTimers(); });
      afterEach(() => clock.restore());

      /** Round 1 is held open until released; 5 more messages arrive over 5 windows meanwhile. */
      async function run(coalesceWhileSending) {
        const rounds = [];
        const settled = [];
        let release;
        const pipeline = new PushPipeline({
          windowMs: 100,
          coalesceWhileSending,
          dispatch: async (entries, report) => {
            rounds.push(entries.map((e) => `${e.key}=${e.value}`).sort());
            if (rounds.length === 1) await new Promise((r) => { release = r; });
            report({ calls: 1, results: entries.map((entry) => ({ entry, outcome: 'ok' })) });
          },
          onBatch: () => undefined,
          onTicketSettled: (s) => settled.push(s.ticket),
        });
        await pipeline.submit('m0', [{ ticket: 'm0', index: 0, key: 'a', value: 0 }]);
        await clock.tickAsync(100);
        assert.strictEqual(rounds.length, 1);
        for (let m = 1; m <= 5; m++) {
          await pipeline.submit(`m${m}`, [{ ticket: `m${m}`, index: 0, key: 'a', value: m }, { ticket: `m${m}`, index: 1, key: `k${m % 2}`, value: m }]);
          await clock.tickAsync(100);
        }
        release();
        await clock.tickAsync(0);
        const sentBeforeFlush = rounds.length;
        await pipeline.flush();
        assert.deepStrictEqual(settled.sort(), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'], 'every message settles');
        return { rounds, sentBeforeFlush };
      }

      it('coalesceWhileSending: what arrives meanwhile goes as one round, latest value per key', async () => {
        const { rounds, sentBeforeFlush } = await run(true);
        assert.strictEqual(sentBeforeFlush, 2, 'the held round leaves as soon as round 1 settles, no flush needed');
        assert.deepStrictEqual(rounds, [['a=0'], ['a=5', 'k0=4', 'k1=5']]);
      });

      it('without it: one round queued per window', async () => {
        const { rounds } = await run(false);
        assert.strictEqual(rounds.length, 6);
        assert.deepStrictEqual(rounds[5], ['a=5', 'k1=5']);
      });
    });

    it('drops stale entries against the applied timestamp', async () => {
      const store = new Map([['s:a', 5000]]);
      const settled = [];
      const pipeline = new PushPipeline({
        windowMs: 0,
        guard: new TimestampGuard({ get: async (k) => store.get(k), set: async (k, v) => { store.set(k, v); } }, 's:'),
        dispatch: async (entries, report) => report({ calls: 1, results: entries.map((entry) => ({ entry, outcome: 'ok' })) }),
        onBatch: () => undefined,
        onTicketSettled: (s) => settled.push(s.ticket),
      });
      const stale = await pipeline.submit('t', [{ ticket: 't', index: 0, key: 'a', value: 1, timestamp: 4000 }]);
      assert.strictEqual(stale.length, 1);
      assert.match(stale[0].reason, /older than the update already applied/);
      assert.deepStrictEqual(settled, ['t']);
    });
  });

  it('summarize never says ok with a failed item, and stale alone is not a failure', () => {
    assert.strictEqual(summarize([{ outcome: 'ok' }, { outcome: 'rejected' }]).status, 'partial');
    assert.strictEqual(summarize([{ outcome: 'failed' }]).status, 'failed');
    assert.strictEqual(summarize([{ outcome: 'ok' }, { outcome: 'stale' }]).status, 'ok');
    assert.strictEqual(summarize([{ outcome: 'invalid' }, { outcome: 'ok', superseded: 2 }]).counts.superseded, 2);
  });

  it('matches bulk operations to request items', () => {
    const req = [{ id: 0, status: 'accepted' }, { id: 1, status: 'rejected' }, { id: 2, status: 'accepted' }];
    const byId = matchOperations(req, [{ id: 0, status: 1 }, { id: 2, status: 3 }]);
    assert.strictEqual(byId.get(2).status, 3);
    const byRank = matchOperations(req, [{ id: 17, status: 1 }, { id: 18, status: 3 }]);
    assert.strictEqual(byRank.get(0).id, 17);
    assert.strictEqual(byRank.get(2).id, 18);
  });
});
