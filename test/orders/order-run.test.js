'use strict';
// lib/orders runOrderRead: one read run without Node-RED — cursor rules, back-pressure, events, failures.
const assert = require('assert');
const sinon = require('sinon');
const { FakeMagento } = require('./fake-magento');
const orders = require('../../dist/lib/orders');
const { IntegrationError } = require('../../dist/lib/errors');

/** The small durable map the cursor needs, in memory. */
function backend() {
  const map = new Map();
  return { get: async (k) => map.get(k), set: async (k, v) => { map.set(k, v); }, delete: async (k) => map.delete(k) };
}

function recorder() {
  const seen = { emitted: [], events: [] };
  seen.events_ = {
    emit: (order, enrichment, place) => seen.emitted.push({ id: order.entity_id, place }),
    sinceAhead: (since, cursor) => seen.events.push(['sinceAhead', since, cursor.entityId]),
    started: (start) => seen.events.push(['started', start ? start.entityId : null]),
    paged: (page, n, cursor) => seen.events.push(['paged', page.page, n, cursor.entityId]),
    waiting: (page, inFlight) => seen.events.push(['waiting', page.page, inFlight]),
    stalled: (abandoned, seconds) => seen.events.push(['stalled', abandoned, seconds]),
    failed: (page, cursor) => seen.events.push(['failed', page, cursor ? cursor.entityId : null]),
  };
  return seen;
}

const base = { pageSize: 10, handoverTimeoutMs: 60000, overlapSeconds: 0 };

describe('lib/orders runOrderRead', () => {
  it('reads every order once, saves the cursor after each page and sums the run up', async () => {
    const m = new FakeMagento();
    m.addOrders(25);
    const cursors = new orders.CursorStore(backend(), 'k');
    const r = recorder();
    const summary = await orders.runOrderRead(m, cursors, undefined, { ...base, signal: new AbortController().signal }, r.events_);
    assert.deepStrictEqual(r.emitted.map((e) => e.id), Array.from({ length: 25 }, (_, i) => i + 1));
    assert.deepStrictEqual(r.emitted[24].place, { page: 3, pages: 3, backfill: false });
    assert.deepStrictEqual(r.events, [['started', null], ['paged', 1, 10, 10], ['paged', 2, 20, 20], ['paged', 3, 25, 25]]);
    assert.deepStrictEqual({ ...summary, startedAt: undefined, finishedAt: undefined }, {
      orders: 25, unconfirmed: 0, pages: 3, expectedPages: 3, backfill: false, startedAt: undefined, finishedAt: undefined,
      cursor: { updatedAt: m.orders[24].updated_at, entityId: 25 },
    });
    assert.strictEqual((await cursors.load()).entityId, 25);
  });

  it('a poll starts at the cursor minus the overlap and never moves the cursor back; a backfill moves it first', async () => {
    const m = new FakeMagento();
    m.addOrders(5);
    const cursors = new orders.CursorStore(backend(), 'k');
    const signal = new AbortController().signal;
    await orders.runOrderRead(m, cursors, undefined, { ...base, signal }, recorder().events_);
    // Re-read within the overlap: the orders before the cursor come again, the cursor stays.
    const again = recorder();
    await orders.runOrderRead(m, cursors, undefined, { ...base, overlapSeconds: 3, signal }, again.events_);
    assert.deepStrictEqual(again.emitted.map((e) => e.id), [2, 3, 4, 5], 'the overlap re-reads the last 3 seconds');
    assert.strictEqual((await cursors.load()).entityId, 5);

    const back = recorder();
    const summary = await orders.runOrderRead(m, cursors, undefined, { ...base, since: m.orders[2].updated_at, signal }, back.events_);
    assert.deepStrictEqual(back.emitted.map((e) => [e.id, e.place.backfill]), [[3, true], [4, true], [5, true]]);
    assert.strictEqual(summary.backfill, true);

    const ahead = recorder();
    await orders.runOrderRead(m, cursors, undefined, { ...base, since: '2030-01-01 00:00:00', signal }, ahead.events_);
    assert.deepStrictEqual(ahead.events[0], ['sinceAhead', '2030-01-01 00:00:00', 5]);
    assert.deepStrictEqual(await cursors.load().then((c) => [c.updatedAt, c.entityId]), ['2030-01-01 00:00:00', 0], 'a backfill moves the cursor, even forward');
  });

  it('re-reads the overlap until a read started an overlap after the cursor was saved did; then starts at the cursor until it moves', async () => {
    const clock = sinon.useFakeTimers({ now: Date.UTC(2026, 0, 1, 12), toFake: ['Date'] });
    try {
      const m = new FakeMagento();
      m.addOrders(5, { at: Date.UTC(2024, 0, 1, 10) });
      const cursors = new orders.CursorStore(backend(), 'k');
      const signal = new AbortController().signal;
      const poll = async () => {
        const r = recorder();
        await orders.runOrderRead(m, cursors, undefined, { ...base, overlapSeconds: 10, signal }, r.events_);
        return r.emitted.map((e) => e.id);
      };
      assert.deepStrictEqual(await poll(), [1, 2, 3, 4, 5]);
      clock.tick(5000);
      // An order saved in the cursor's second and committed after that read: the overlap finds it.
      m.addOrders(1, { at: Date.UTC(2024, 0, 1, 10, 0, 4) });
      assert.deepStrictEqual(await poll(), [1, 2, 3, 4, 5, 6], 'within the overlap after the save: re-read');
      // Order 6 moved the cursor (saved at +5 s).
      clock.tick(6500);
      assert.deepStrictEqual(await poll(), [1, 2, 3, 4, 5, 6], 'less than the overlap (+1 s) after the save: re-read');
      assert.strictEqual((await cursors.load()).overlapReadAt, undefined);
      clock.tick(4500);
      assert.deepStrictEqual(await poll(), [1, 2, 3, 4, 5, 6], 'the first read an overlap (+1 s) after the save re-reads once more');
      assert.strictEqual((await cursors.load()).overlapReadAt, new Date(Date.UTC(2026, 0, 1, 12, 0, 16)).toISOString());
      const calls = m.callsTo('/orders').length;
      clock.tick(60000);
      assert.deepStrictEqual(await poll(), [], 'settled: nothing re-read');
      const criteria = m.callsTo('/orders')[calls].criteria;
      assert.deepStrictEqual(criteria.filterGroups.slice(0, 2), [
        [{ field: 'updated_at', value: '2024-01-01 10:00:04', conditionType: 'gteq' }],
        [{ field: 'updated_at', value: '2024-01-01 10:00:04', conditionType: 'gt' }, { field: 'entity_id', value: 6, conditionType: 'gt' }],
      ], 'the read starts right after the cursor');

      // A new order moves the cursor: its overlap is re-read again until it settles.
      m.addOrders(1, { at: Date.UTC(2024, 0, 1, 11) });
      assert.deepStrictEqual(await poll(), [7]);
      assert.strictEqual((await cursors.load()).overlapReadAt, undefined);
      assert.deepStrictEqual(await poll(), [7]);
    } finally {
      clock.restore();
    }
  });

  it('keeps at most two pages in flight by default: the next page waits until the flow took the page before', async () => {
    const m = new FakeMagento();
    m.addOrders(35);
    const handover = new orders.Handover();
    const r = recorder();
    r.events_.emit = (order) => { r.emitted.push(order.entity_id); handover.track(String(order.entity_id), ['next'], undefined); };
    const running = orders.runOrderRead(m, new orders.CursorStore(backend(), 'k'), handover, { ...base, signal: new AbortController().signal }, r.events_);
    const turns = async () => { for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve)); };
    await turns();
    assert.strictEqual(r.emitted.length, 20, 'two pages out');
    assert.strictEqual(m.callsTo('/orders').length, 2);
    assert.deepStrictEqual(r.events.filter((e) => e[0] === 'waiting'), [['waiting', 2, 20]]);
    for (let id = 1; id <= 9; id++) handover.complete(String(id), 'next');
    await turns();
    assert.strictEqual(m.callsTo('/orders').length, 2, 'page 3 fetched with an order of page 1 still out');
    handover.complete('10', 'next');
    await turns();
    assert.strictEqual(r.emitted.length, 30);
    for (let id = 11; id <= 30; id++) handover.complete(String(id), 'next');
    await turns();
    assert.strictEqual(r.emitted.length, 35, 'page 4');
    for (let id = 31; id <= 35; id++) handover.complete(String(id), 'next');
    const summary = await running;
    assert.strictEqual(summary.orders, 35);
    assert.strictEqual(summary.unconfirmed, 0);
  });

  it('gives up on orders the flow never takes after the take-over timeout, and says how many', async () => {
    const m = new FakeMagento();
    m.addOrders(12);
    const handover = new orders.Handover();
    const r = recorder();
    r.events_.emit = (order) => handover.track(String(order.entity_id), ['next'], undefined);
    const summary = await orders.runOrderRead(m, new orders.CursorStore(backend(), 'k'), handover,
      { ...base, pageSize: 5, handoverTimeoutMs: 50, signal: new AbortController().signal }, r.events_);
    assert.strictEqual(summary.unconfirmed, 12);
    assert.deepStrictEqual(r.events.filter((e) => e[0] === 'stalled'), [['stalled', 10, 0.05], ['stalled', 2, 0.05]]);
  });

  it('a failing page: failed(page, cursor) names where it stopped, the error is thrown as it was, the cursor kept', async () => {
    const m = new FakeMagento();
    m.addOrders(15);
    const boom = new IntegrationError('transient', 'Magento answered 503', { status: 503 });
    const cursors = new orders.CursorStore(backend(), 'k');
    const r = recorder();
    m.onSearch = (path) => { if (path === '/orders' && m.callsTo('/orders').length === 2) throw boom; };
    await assert.rejects(orders.runOrderRead(m, cursors, undefined, { ...base, signal: new AbortController().signal }, r.events_), (err) => err === boom);
    assert.deepStrictEqual(r.events.at(-1), ['failed', 2, 10]);
    assert.strictEqual((await cursors.load()).entityId, 10);
  });

  it('a run stopped by its signal fails as transient (ABORT_ERR) after the cursor of the pages sent', async () => {
    const m = new FakeMagento();
    m.addOrders(15);
    const aborter = new AbortController();
    const r = recorder();
    r.events_.paged = () => aborter.abort();
    await assert.rejects(orders.runOrderRead(m, new orders.CursorStore(backend(), 'k'), undefined, { ...base, signal: aborter.signal }, r.events_),
      (err) => err instanceof IntegrationError && err.errorClass === 'transient');
  });
});
