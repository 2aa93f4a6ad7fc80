'use strict';
const assert = require('assert');
const { FakeMagento, magentoDate } = require('./fake-magento');
const orders = require('../../dist/lib/orders');
const { IntegrationError } = require('../../dist/lib/errors');

async function readAll(client, start, options) {
  const pages = [];
  for await (const page of orders.readOrderPages(client, start, options)) pages.push(page);
  return pages;
}

describe('lib/orders reader (keyset paging)', () => {
  it('pages through many orders sharing one updated_at by entity_id, each once, in order', async () => {
    const m = new FakeMagento();
    m.addOrders(25, { sameSecond: true, at: Date.UTC(2024, 0, 1, 10) });
    m.addOrders(12, { at: Date.UTC(2024, 0, 1, 11) });
    const pages = await readAll(m, undefined, { pageSize: 10 });
    const ids = pages.flatMap((p) => p.orders.map((o) => o.entity_id));
    assert.deepStrictEqual(ids, Array.from({ length: 37 }, (_, i) => i + 1));
    assert.strictEqual(pages.length, 4);
    assert.deepStrictEqual(pages.map((p) => `${p.page}/${p.pages}`), ['1/4', '2/4', '3/4', '4/4']);
    // Every call asks for page 1 after the last order: no growing currentPage numbers.
    for (const call of m.callsTo('/orders')) assert.strictEqual(call.criteria.currentPage, 1);
    const second = m.callsTo('/orders')[1].criteria;
    assert.deepStrictEqual(second.filterGroups.slice(0, 2), [
      [{ field: 'updated_at', value: '2024-01-01 10:00:00', conditionType: 'gteq' }],
      [{ field: 'updated_at', value: '2024-01-01 10:00:00', conditionType: 'gt' }, { field: 'entity_id', value: 10, conditionType: 'gt' }],
    ]);
    assert.deepStrictEqual(second.sortOrders, [{ field: 'updated_at', direction: 'ASC' }, { field: 'entity_id', direction: 'ASC' }]);
    assert.deepStrictEqual(pages[3].cursor, { updatedAt: magentoDate(Date.UTC(2024, 0, 1, 11) + 11000), entityId: 37 });
  });

  it('stops by total_count when the orders fill the last page exactly (no call past the end)', async () => {
    const m = new FakeMagento();
    m.addOrders(30);
    const pages = await readAll(m, undefined, { pageSize: 10 });
    assert.strictEqual(pages.length, 3);
    assert.strictEqual(m.callsTo('/orders').length, 3);
    // An empty store answers one empty page and the run ends.
    const empty = new FakeMagento();
    assert.deepStrictEqual(await readAll(empty, undefined, { pageSize: 10 }), []);
    assert.strictEqual(empty.callsTo('/orders').length, 1);
  });

  it('does not skip an order updated during the run (it moves behind the cursor, keyset still finds it)', async () => {
    const m = new FakeMagento();
    m.addOrders(30, { at: Date.UTC(2024, 0, 1, 10) });
    let n = 0;
    m.onSearch = async () => {
      // After the first page is read, order 3 (already read) and order 15 (not yet) change.
      if (++n === 2) { m.touch(3, Date.UTC(2024, 0, 2)); m.touch(15, Date.UTC(2024, 0, 2, 1)); }
    };
    const pages = await readAll(m, undefined, { pageSize: 10 });
    const ids = pages.flatMap((p) => p.orders.map((o) => o.entity_id));
    for (let id = 1; id <= 30; id++) assert.ok(ids.includes(id), `order ${id} read`);
    assert.deepStrictEqual(ids.slice(-2), [3, 15]);
  });

  it('status filter is sent to Magento and the cursor only passes orders the query returned', async () => {
    const m = new FakeMagento();
    m.addOrders(10, { status: (id) => (id % 2 ? 'processing' : 'pending') });
    const pages = await readAll(m, undefined, { pageSize: 3, statuses: ['processing'] });
    const ids = pages.flatMap((p) => p.orders.map((o) => o.entity_id));
    assert.deepStrictEqual(ids, [1, 3, 5, 7, 9]);
    const end = pages[pages.length - 1].cursor;
    // A skipped pending order that becomes processing gets a new updated_at and is read next time.
    m.touch(4, Date.UTC(2024, 0, 3), { status: 'processing' });
    const next = await readAll(m, orders.withOverlap(end, 0), { pageSize: 3, statuses: ['processing'] });
    assert.deepStrictEqual(next.flatMap((p) => p.orders.map((o) => o.entity_id)), [4]);
    assert.deepStrictEqual(m.callsTo('/orders')[0].criteria.filterGroups, [[{ field: 'status', value: ['processing'], conditionType: 'in' }]]);
  });

  it('a failing page rejects after the pages before it were yielded', async () => {
    const m = new FakeMagento();
    m.addOrders(25);
    let calls = 0;
    m.onSearch = async () => { if (++calls === 3) throw new IntegrationError('transient', 'boom 503', { status: 503 }); };
    const seen = [];
    await assert.rejects(async () => {
      for await (const page of orders.readOrderPages(m, undefined, { pageSize: 10 })) seen.push(page.cursor.entityId);
    }, /boom 503/);
    assert.deepStrictEqual(seen, [10, 20]);
  });

  it('stops with an error instead of looping when the store ignores the OR group', async () => {
    const m = new FakeMagento();
    m.addOrders(25, { sameSecond: true });
    m.ignoreOrGroups = true;
    await assert.rejects(readAll(m, { updatedAt: m.orders[0].updated_at, entityId: 12 }, { pageSize: 10 }), /ignores the keyset filter/);
  });

  it('overlap re-reads orders in the window before the cursor', async () => {
    const m = new FakeMagento();
    m.addOrders(10, { step: 1000 });
    const start = orders.withOverlap({ updatedAt: m.orders[7].updated_at, entityId: 8 }, 3);
    const pages = await readAll(m, start, { pageSize: 100 });
    assert.deepStrictEqual(pages[0].orders.map((o) => o.entity_id), [5, 6, 7, 8, 9, 10]);
  });

  it('refuses a page size above the store maximum', async () => {
    const m = new FakeMagento();
    await assert.rejects(readAll(m, undefined, { pageSize: 301 }), (err) => err.field === 'pageSize');
  });

  it('enriches a page with one invoices, one shipments and one customers call', async () => {
    const m = new FakeMagento();
    m.addOrders(50, { customerId: undefined });
    m.addOrders(5, { guest: true });
    for (let i = 1; i <= 55; i++) m.invoices.push({ entity_id: i, order_id: i });
    m.shipments.push({ entity_id: 1, order_id: 2 }, { entity_id: 2, order_id: 2 });
    for (let i = 1; i <= 50; i++) m.customers.push({ id: i, email: `c${i}@example.com` });
    const pages = await readAll(m, undefined, { pageSize: 100, enrich: { invoices: true, shipments: true, customer: true } });
    assert.strictEqual(pages.length, 1);
    assert.strictEqual(m.callsTo('/invoices').length, 1);
    assert.strictEqual(m.callsTo('/shipments').length, 1);
    assert.strictEqual(m.callsTo('/customers/search').length, 1);
    assert.deepStrictEqual(m.callsTo('/invoices')[0].criteria.filterGroups[0][0].conditionType, 'in');
    const e = pages[0].enrichment;
    assert.strictEqual(e.get(2).shipments.length, 2);
    assert.strictEqual(e.get(1).invoices[0].order_id, 1);
    assert.strictEqual(e.get(7).customer.email, 'c7@example.com');
    assert.strictEqual(e.get(53).customer, null);
    assert.strictEqual(m.callsTo('/customers/search')[0].criteria.filterGroups[0][0].value.length, 50);
  });
});

describe('lib/orders reread', () => {
  it('retries a 404 after a delay and finds the order', async () => {
    const m = new FakeMagento();
    m.addOrders(3);
    m.notFoundTimes.set(2, 2);
    const waits = [];
    const r = await orders.rereadOrder(m, { entityId: 2 }, { notFoundRetries: 3, notFoundDelayMs: 1500, sleep: async (ms) => { waits.push(ms); } });
    assert.strictEqual(r.order.entity_id, 2);
    assert.strictEqual(r.attempts, 3);
    assert.deepStrictEqual(waits, [1500, 1500]);
  });

  it('gives up with a not-found error after the retries', async () => {
    const m = new FakeMagento();
    await assert.rejects(orders.rereadOrder(m, { entityId: 9 }, { notFoundRetries: 1, notFoundDelayMs: 1, sleep: async () => {} }),
      (err) => err.errorClass === 'not-found' && err.details.attempts === 2);
  });

  it('finds an order by increment id', async () => {
    const m = new FakeMagento();
    m.addOrders(3);
    const r = await orders.rereadOrder(m, { incrementId: '100000002' }, { notFoundRetries: 0, notFoundDelayMs: 0 });
    assert.strictEqual(r.order.entity_id, 2);
  });

  it('validates msg.entityId and msg.incrementId', () => {
    assert.throws(() => orders.orderRefOf({ entityId: 'abc' }), (err) => err.field === 'msg.entityId');
    assert.throws(() => orders.orderRefOf({ incrementId: {} }), (err) => err.field === 'msg.incrementId');
    assert.deepStrictEqual(orders.orderRefOf({ entityId: '12' }), { entityId: 12 });
    assert.strictEqual(orders.orderRefOf({}), undefined);
  });
});

describe('lib/orders cursor and run lock', () => {
  it('parses dates and keeps the cursor in a key/value store', async () => {
    const { openKeyValueStore } = require('../../dist/lib/stores');
    const kv = openKeyValueStore({ kind: 'memory', name: 'cursor-test' });
    const store = new orders.CursorStore(kv, orders.CursorStore.keyFor('shop', 'n1'));
    assert.strictEqual(await store.load(), undefined);
    await store.save({ updatedAt: '2024-01-01 10:00:00', entityId: 5 });
    const c = await store.load();
    assert.strictEqual(c.updatedAt, '2024-01-01 10:00:00');
    assert.strictEqual(c.entityId, 5);
    await store.reset();
    assert.strictEqual(await store.load(), undefined);
    assert.strictEqual(orders.magentoDateOf('2024-05-01T12:30:00Z', 'since'), '2024-05-01 12:30:00');
    assert.throws(() => orders.magentoDateOf('yesterday', 'msg.since'), (err) => err.field === 'msg.since');
    await kv.close();
  });

  it('never runs two tasks at once; skips or merges polls', async () => {
    const lock = new orders.RunLock();
    let running = 0; let max = 0;
    let release;
    const gate = new Promise((r) => { release = r; });
    const task = async () => { running++; max = Math.max(max, running); await gate; running--; return 'ok'; };
    const first = lock.run(task, { skippable: true, mode: 'wait' });
    const second = lock.run(task, { skippable: true, mode: 'wait' });
    const third = lock.run(task, { skippable: true, mode: 'wait' });
    const skipped = lock.run(task, { skippable: true, mode: 'skip' });
    release();
    const results = await Promise.all([first, second, third, skipped]);
    assert.deepStrictEqual(results.map((r) => r.ran), [true, true, false, false]);
    assert.strictEqual(max, 1);
  });
});
