'use strict';
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const readOrders = require('../../dist/nodes/read-orders/read-orders.js');
const fakeStoreConfig = require('../orders/fake-store-config');
const { FakeMagento } = require('../orders/fake-magento');
const { IntegrationError } = require('../../dist/lib/errors');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

helper.init(require.resolve('node-red'));

/** Messages arriving at a helper node, with a wait for a condition (no sleeps). */
function collector(node) {
  const messages = [];
  let waiters = [];
  node.on('input', (msg) => {
    messages.push(msg);
    waiters = waiters.filter((w) => (w.predicate(messages) ? (w.resolve(messages), false) : true));
  });
  return {
    messages,
    until(predicate, what = 'messages') {
      if (predicate(messages)) return Promise.resolve(messages);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${messages.length}`)), 10000);
        waiters.push({ predicate, resolve: (m) => { clearTimeout(timer); resolve(m); } });
      });
    },
  };
}

describe('magento-read-orders node (fake Magento client)', function () {
  let userDir;
  let magento;

  // helper.settings outlives this file: leave the runtime settings as other test files expect them.
  after(() => helper.settings({}));
  beforeEach((done) => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'read-orders-'));
    helper.settings({ userDir });
    magento = new FakeMagento({ name: 'shop' });
    fakeStoreConfig.use(magento);
    helper.startServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  async function load(config = {}) {
    const flow = [
      { id: 'store', type: 'magento-store-config', name: 'shop' },
      { id: 'read', type: 'magento-read-orders', store: 'store', pageSize: '10', busy: 'wait', overlapSeconds: '0', notFoundRetries: '3', notFoundDelayMs: '5',
        storeKind: 'sqlite', wires: [['orders'], ['summary']], ...config },
      { id: 'orders', type: 'helper' },
      { id: 'summary', type: 'helper' },
      { id: 'catch', type: 'catch', scope: ['read'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ];
    // Flow nodes need a tab and x/y, or the runtime takes them for config nodes.
    for (const node of flow) if (node.type !== 'magento-store-config') Object.assign(node, { z: 'tab', x: 0, y: 0 });
    await helper.load([fakeStoreConfig, readOrders, catchNode], [{ id: 'tab', type: 'tab' }, ...flow]);
    return {
      read: helper.getNode('read'),
      orders: collector(helper.getNode('orders')),
      summary: collector(helper.getNode('summary')),
      caught: collector(helper.getNode('caught')),
    };
  }

  const ids = (msgs) => msgs.map((m) => m.payload.entity_id);

  it('emits one message per order across pages, with store and cursor, then a summary', async () => {
    magento.addOrders(25, { sameSecond: true });
    magento.addOrders(3);
    const n = await load();
    n.read.receive({ payload: 'tick' });
    const [summary] = await n.summary.until((m) => m.length === 1, 'summary');
    assert.deepStrictEqual(ids(n.orders.messages), Array.from({ length: 28 }, (_, i) => i + 1));
    const m = n.orders.messages[12];
    assert.strictEqual(m.store, 'shop');
    assert.strictEqual(m.topic, '100000013');
    assert.deepStrictEqual(m.cursor, { updatedAt: magento.orders[12].updated_at, entityId: 13, page: 2, pages: 3, backfill: false });
    assert.strictEqual(summary.payload.orders, 28);
    assert.strictEqual(summary.payload.pages, 3);
    assert.deepStrictEqual(summary.payload.cursor, { updatedAt: magento.orders[27].updated_at, entityId: 28 });
    for (const c of magento.callsTo('/orders')) assert.strictEqual(c.criteria.currentPage, 1);
  });

  it('keeps the cursor in SQLite across a restart and reads only what changed since', async () => {
    magento.addOrders(12);
    let n = await load();
    n.read.receive({});
    await n.summary.until((m) => m.length === 1);
    assert.strictEqual(n.orders.messages.length, 12);
    await helper.unload();
    assert.ok(fs.existsSync(path.join(userDir, 'magento-erp', 'magento-read-orders-cursors.sqlite')));

    magento.addOrders(4, { at: Date.UTC(2024, 0, 5) });
    magento.touch(2, Date.UTC(2024, 0, 6), { status: 'processing' });
    n = await load();
    n.read.receive({});
    await n.summary.until((m) => m.length === 1);
    assert.deepStrictEqual(ids(n.orders.messages), [13, 14, 15, 16, 2]);
  });

  it('a cursor file an older version kept in the user directory itself is moved into magento-erp/ and read on', async () => {
    magento.addOrders(12);
    let n = await load();
    n.read.receive({});
    await n.summary.until((m) => m.length === 1);
    await helper.unload();
    // Where versions up to 0.1.x kept it: the user directory itself (the write-ahead log beside it when there is one).
    const stateDir = path.join(userDir, 'magento-erp');
    for (const f of fs.readdirSync(stateDir).filter((f) => f.startsWith('magento-read-orders-cursors.sqlite'))) {
      fs.renameSync(path.join(stateDir, f), path.join(userDir, f));
    }
    magento.addOrders(2, { at: Date.UTC(2024, 0, 5) });
    n = await load();
    n.read.receive({});
    await n.summary.until((m) => m.length === 1);
    assert.deepStrictEqual(ids(n.orders.messages), [13, 14]);
    assert.ok(fs.existsSync(path.join(stateDir, 'magento-read-orders-cursors.sqlite')));
    assert.ok(!fs.existsSync(path.join(userDir, 'magento-read-orders-cursors.sqlite')));
    const moved = helper.log().args.map((a) => a[0]).filter((e) => e.id === 'read' && /store-moved|moved magento-read-orders-cursors/.test(e.msg));
    assert.strictEqual(moved.length, 1, 'the move is logged once');
  });

  it('re-reads the overlap window: orders sharing the cursor second come again (duplicates expected)', async () => {
    magento.addOrders(5, { sameSecond: true });
    const n = await load({ overlapSeconds: '1' });
    n.read.receive({});
    await n.summary.until((m) => m.length === 1);
    // An order committed late in the same second as the cursor, with a lower entity id than the last read.
    magento.orders[1].status = 'late';
    n.read.receive({});
    await n.summary.until((m) => m.length === 2);
    assert.deepStrictEqual(ids(n.orders.messages), [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
    assert.strictEqual(n.orders.messages[6].payload.status, 'late');
    assert.strictEqual(n.summary.messages[1].payload.cursor.entityId, 5);
  });

  it('a failed page stops the run with a typed error, the cursor after the last page sent', async () => {
    magento.addOrders(30);
    let calls = 0;
    magento.onSearch = async (p) => { if (p === '/orders' && ++calls === 3) throw new IntegrationError('transient', 'GET /V1/orders failed: 503', { status: 503 }); };
    const n = await load();
    n.read.receive({ _msgid: 'trigger-1', payload: 'go' });
    const [caught] = await n.caught.until((m) => m.length === 1, 'error');
    assert.strictEqual(caught.failure.errorClass, 'transient');
    assert.strictEqual(caught.failure.status, 503);
    assert.deepStrictEqual(caught.cursor, { updatedAt: magento.orders[19].updated_at, entityId: 20 });
    assert.strictEqual(n.orders.messages.length, 20);
    assert.strictEqual(n.summary.messages.length, 0);
    n.read.receive({});
    await n.summary.until((m) => m.length === 1);
    assert.deepStrictEqual(ids(n.orders.messages), Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('status filter: skipped orders are read once their status changes', async () => {
    magento.addOrders(6, { status: (id) => (id <= 3 ? 'pending' : 'processing') });
    const n = await load({ statuses: 'processing, complete' });
    n.read.receive({});
    await n.summary.until((m) => m.length === 1);
    assert.deepStrictEqual(ids(n.orders.messages), [4, 5, 6]);
    magento.touch(1, Date.UTC(2024, 1, 1), { status: 'processing' });
    n.read.receive({});
    await n.summary.until((m) => m.length === 2);
    assert.deepStrictEqual(ids(n.orders.messages), [4, 5, 6, 1]);
  });

  it('backfill with msg.since moves the cursor back and reads from there', async () => {
    magento.addOrders(10, { step: 3600 * 1000 });
    const n = await load();
    n.read.receive({});
    await n.summary.until((m) => m.length === 1);
    n.read.receive({ since: '2024-01-01T15:00:00Z' });
    await n.summary.until((m) => m.length === 2);
    assert.deepStrictEqual(ids(n.orders.messages.slice(10)), [6, 7, 8, 9, 10]);
    assert.strictEqual(n.orders.messages[10].cursor.backfill, true);
    assert.strictEqual(n.summary.messages[1].payload.backfill, true);
    n.read.receive({ since: 'not a date' });
    const [caught] = await n.caught.until((m) => m.length === 1);
    assert.strictEqual(caught.failure.field, 'msg.since');
  });

  it('re-reads one order by entityId, retrying a 404, on the same message', async () => {
    magento.addOrders(3);
    magento.notFoundTimes.set(3, 2);
    const n = await load();
    n.read.receive({ entityId: 3, idempotencyKey: 'order_100000003', event: 'order.placed' });
    const [m] = await n.orders.until((x) => x.length === 1);
    assert.strictEqual(m.payload.entity_id, 3);
    assert.strictEqual(m.idempotencyKey, 'order_100000003');
    assert.strictEqual(m.event, 'order.placed');
    assert.strictEqual(magento.callsTo('/orders/3').length, 3);
    n.read.receive({ incrementId: '100000002' });
    await n.orders.until((x) => x.length === 2);
    assert.strictEqual(n.orders.messages[1].payload.entity_id, 2);
    n.read.receive({ entityId: 99 });
    const [caught] = await n.caught.until((x) => x.length === 1);
    assert.strictEqual(caught.failure.errorClass, 'not-found');
    assert.strictEqual(magento.callsTo('/orders/99').length, 4);
  });

  it('reset deletes the cursor: the next read starts again', async () => {
    magento.addOrders(4);
    const n = await load();
    n.read.receive({});
    await n.summary.until((m) => m.length === 1);
    n.read.receive({ command: 'reset-cursor' });
    n.read.receive({});
    await n.summary.until((m) => m.length === 2);
    assert.deepStrictEqual(ids(n.orders.messages), [1, 2, 3, 4, 1, 2, 3, 4]);
    n.read.receive({ command: 'explode' });
    const [caught] = await n.caught.until((m) => m.length === 1);
    assert.strictEqual(caught.failure.field, 'msg.command');
  });

  for (const mode of ['wait', 'skip']) {
    it(`never overlaps reads: a trigger during a read ${mode === 'wait' ? 'waits' : 'is skipped'}`, async () => {
      magento.addOrders(25);
      let active = 0; let maxActive = 0; let release; let entered;
      const blocked = new Promise((r) => { release = r; });
      const firstCall = new Promise((r) => { entered = r; });
      magento.onSearch = async () => {
        active++; maxActive = Math.max(maxActive, active);
        entered();
        await blocked;
        active--;
      };
      const n = await load({ busy: mode });
      n.read.receive({});
      await firstCall;
      n.read.receive({});
      n.read.receive({});
      release();
      if (mode === 'wait') {
        await n.summary.until((m) => m.length === 2);
        assert.strictEqual(n.summary.messages[1].payload.orders, 0);
      } else {
        await n.summary.until((m) => m.length === 1);
        // Let the skipped triggers settle: they end without a summary.
        await new Promise((r) => setImmediate(r));
        assert.strictEqual(n.summary.messages.length, 1);
      }
      assert.strictEqual(maxActive, 1);
      assert.strictEqual(n.orders.messages.length, 25);
    });
  }

  it('adds invoices, shipments and customers with three calls per page', async () => {
    magento.addOrders(20);
    for (let i = 1; i <= 20; i++) magento.invoices.push({ entity_id: i, order_id: i });
    for (let i = 1; i <= 20; i++) magento.customers.push({ id: i, email: `c${i}@example.com` });
    const n = await load({ enrichInvoices: true, enrichShipments: true, enrichCustomer: true });
    n.read.receive({});
    await n.summary.until((m) => m.length === 1);
    assert.strictEqual(magento.callsTo('/invoices').length, 2);
    assert.strictEqual(magento.callsTo('/shipments').length, 2);
    assert.strictEqual(magento.callsTo('/customers/search').length, 2);
    const m = n.orders.messages[4];
    assert.deepStrictEqual(m.enrichment, { invoices: [{ entity_id: 5, order_id: 5 }], shipments: [], customer: { id: 5, email: 'c5@example.com' } });
  });
});
