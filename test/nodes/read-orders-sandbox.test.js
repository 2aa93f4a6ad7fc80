'use strict';
// read-orders and webhook-in against the Magento sandbox, through a real store-config node.
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const express = require('express');
const storeConfig = require('../../dist/nodes/store-config/store-config.js');
const readOrders = require('../../dist/nodes/read-orders/read-orders.js');
const webhookIn = require('../../dist/nodes/webhook-in/webhook-in.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const changeNode = require('@node-red/nodes/core/function/15-change.js');
const realHooks = require('@node-red/util').hooks;

helper.init(require.resolve('node-red'));

const SANDBOX = path.join(__dirname, '../../dist/sandbox/magento/index.js');
const SECRET = 'sandbox-webhook-secret-xyz';

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
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${messages.length}`)), 30000);
        waiters.push({ predicate, resolve: (m) => { clearTimeout(timer); resolve(m); } });
      });
    },
  };
}

describe('read-orders and webhook-in against the Magento sandbox', function () {
  this.timeout(60000);
  let sandbox;
  let userDir;
  let app;
  let server;

  before(async function () {
    if (!fs.existsSync(SANDBOX)) this.skip();
    const { startMagentoSandbox } = require(SANDBOX);
    sandbox = await startMagentoSandbox({ port: 0, host: '127.0.0.1', seed: 11, orders: 2000 });
  });
  after(async () => { if (sandbox) await sandbox.close(); });
  // helper.settings outlives this file: leave the runtime settings as other test files expect them.
  after(() => helper.settings({}));
  beforeEach((done) => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'read-orders-sandbox-'));
    helper.settings({ userDir });
    helper.startServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    if (server) await new Promise((r) => server.close(r));
    server = undefined;
    await new Promise((r) => helper.stopServer(r));
    if (sandbox) sandbox.setFaults({});
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  function webhookModule(RED) {
    RED.hooks = realHooks;
    // As in Node-RED with httpAdminRoot = httpNodeRoot = '/': the admin app's global JSON parser runs
    // before httpNode's routes.
    app = express();
    app.use(express.json());
    app.use(RED.httpNode);
    return webhookIn(RED);
  }

  async function load(readConfig = {}, extra = []) {
    const store = {
      id: 'store', type: 'magento-store-config', name: 'sandbox', baseUrl: sandbox.url, storeCode: 'default', authType: 'bearer',
      timeout: '10000', maxConcurrency: '4', requestsPerSecond: '0', rejectUnauthorized: true, maxItemsPerRequest: '20', maxPageSize: '300', maxBulkItems: '5000',
    };
    const flow = [
      { id: 'tab', type: 'tab' },
      store,
      { id: 'read', type: 'magento-read-orders', z: 'tab', x: 0, y: 0, store: 'store', pageSize: '300', busy: 'wait', overlapSeconds: '0',
        notFoundRetries: '3', notFoundDelayMs: '20', storeKind: 'sqlite', wires: [['orders'], ['summary']], ...readConfig },
      { id: 'orders', type: 'helper', z: 'tab', x: 0, y: 0 },
      { id: 'summary', type: 'helper', z: 'tab', x: 0, y: 0 },
      { id: 'catch', type: 'catch', z: 'tab', x: 0, y: 0, scope: ['read'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab', x: 0, y: 0 },
      ...extra,
    ];
    await helper.load([storeConfig, readOrders, catchNode, changeNode, webhookModule], flow, {
      store: { token: sandbox.credentials.bearerToken },
      hook: { secret: SECRET },
    });
    return {
      read: helper.getNode('read'),
      orders: collector(helper.getNode('orders')),
      summary: collector(helper.getNode('summary')),
      caught: collector(helper.getNode('caught')),
    };
  }

  const orderRequests = () => sandbox.requests().filter((r) => /\/V1\/orders$/.test(r.path));

  it('reads all 2,000 seeded orders once, in updated_at order, without currentPage beyond 1, and resumes from the cursor after a restart', async () => {
    sandbox.clearRequests();
    let n = await load();
    n.read.receive({ payload: 'tick' });
    const [summary] = await n.summary.until((m) => m.length === 1, 'summary');
    const got = n.orders.messages;
    assert.strictEqual(got.length, 2000);
    assert.strictEqual(new Set(got.map((m) => m.payload.entity_id)).size, 2000);
    for (let i = 1; i < got.length; i++) {
      const a = got[i - 1].payload; const b = got[i].payload;
      assert.ok(a.updated_at < b.updated_at || (a.updated_at === b.updated_at && a.entity_id < b.entity_id), `order ${i} in keyset order`);
    }
    assert.strictEqual(summary.payload.orders, 2000);
    assert.strictEqual(summary.payload.pages, 7);
    assert.ok(orderRequests().length >= 7);
    for (const r of orderRequests()) assert.strictEqual(r.query['searchCriteria[currentPage]'], '1');

    await helper.unload();
    const placed = await sandbox.placeOrders(5);
    n = await load();
    n.read.receive({});
    await n.summary.until((m) => m.length === 1);
    assert.deepStrictEqual(n.orders.messages.map((m) => m.payload.entity_id), placed.map((o) => o.entity_id));
  });

  it('a failed call leaves the cursor where it was; the next trigger reads the orders once', async () => {
    let n = await load();
    n.read.receive({});
    await n.summary.until((m) => m.length === 1);
    const placed = await sandbox.placeOrders(3);
    // 'V1/orders' without the leading slash: the sandbox reads "/V1/orders" as the regex /V1/ with flags "orders".
    sandbox.setFaults({ next: [{ count: 1, fault: 503, route: 'V1/orders' }] });
    n.read.receive({});
    const [caught] = await n.caught.until((m) => m.length === 1, 'error');
    assert.strictEqual(caught.failure.errorClass, 'transient');
    assert.strictEqual(caught.failure.status, 503);
    const before = n.orders.messages.length;
    n.read.receive({});
    await n.summary.until((m) => m.length === 2);
    assert.deepStrictEqual(n.orders.messages.slice(before).map((m) => m.payload.entity_id), placed.map((o) => o.entity_id));
  });

  it('webhook → re-read by entity id: signed sandbox events arrive once as complete orders, duplicates dropped', async () => {
    const extra = [
      { id: 'hook', type: 'magento-webhook-in', z: 'tab', x: 0, y: 0, url: '/magento/orders', scheme: 'timestamp.body', toleranceSeconds: '300', maxBodyKb: '64',
        dedupeHours: '1', respond: 'accept', storeKind: 'sqlite', wires: [['byId']] },
      { id: 'byId', type: 'change', z: 'tab', x: 0, y: 0, rules: [{ t: 'set', p: 'entityId', pt: 'msg', to: 'payload.order_id', tot: 'msg' }], wires: [['read']] },
    ];
    const n = await load({}, extra);
    server = http.createServer((req, res) => app(req, res));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    sandbox.configure({ webhookUrl: `http://127.0.0.1:${server.address().port}/magento/orders`, webhookSecret: SECRET, webhookSignTimestamp: true });
    try {
      const placed = await sandbox.placeOrders(3, { webhook: true, duplicate: true });
      const deliveries = sandbox.webhookDeliveries().slice(-6);
      assert.deepStrictEqual(deliveries.map((d) => d.status), [200, 200, 200, 200, 200, 200]);
      const msgs = await n.orders.until((m) => m.length === 3, 'three orders');
      assert.deepStrictEqual(msgs.map((m) => m.payload.entity_id), placed.map((o) => o.entity_id));
      for (const m of msgs) {
        assert.strictEqual(m.event, 'order.placed');
        assert.ok(Array.isArray(m.payload.items) && m.payload.items.length > 0, 'complete order with items');
        assert.ok(m.idempotencyKey && m.deliveryId);
      }
      // A forged request never reaches read-orders.
      const res = await new Promise((resolve) => {
        const req = http.request({ host: '127.0.0.1', port: server.address().port, path: '/magento/orders', method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Magento-Signature': 'f'.repeat(64), 'X-Magento-Timestamp': String(Math.floor(Date.now() / 1000)) } }, resolve);
        req.end('{"order_id":1}');
      });
      assert.strictEqual(res.statusCode, 401);
      assert.strictEqual(n.orders.messages.length, 3);
    } finally {
      sandbox.configure({ webhookUrl: '', webhookSecret: '' });
    }
  });
});
