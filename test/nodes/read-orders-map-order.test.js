'use strict';
// Issue 4's acceptance path against the sandbox: 2,000 orders read through read-orders → map-order arrive once,
// in updated_at order, and every one is a valid canonical ERP order (output 1; nothing on the invalid output).
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const storeConfig = require('../../dist/nodes/store-config/store-config.js');
const readOrders = require('../../dist/nodes/read-orders/read-orders.js');
const mapOrder = require('../../dist/nodes/map-order/map-order.js');
const { validateSchema } = require('../../dist/lib/schemas');

helper.init(require.resolve('node-red'));

const SANDBOX = path.join(__dirname, '../../dist/sandbox/magento/index.js');

describe('read-orders → map-order against the Magento sandbox (2,000 orders)', function () {
  this.timeout(120000);
  let sandbox;
  let userDir;

  before(async function () {
    const { startMagentoSandbox } = require(SANDBOX);
    sandbox = await startMagentoSandbox({ port: 0, host: '127.0.0.1', seed: 23, orders: 2000 });
  });
  after(async () => { if (sandbox) await sandbox.close(); });
  after(() => helper.settings({}));
  beforeEach((done) => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'read-map-'));
    helper.settings({ userDir });
    helper.startServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('every order arrives once, in updated_at order, mapped and valid against erp-order', async function () {
    const flow = [
      { id: 'tab', type: 'tab' },
      { id: 'store', type: 'magento-store-config', name: 'sandbox', baseUrl: sandbox.url, storeCode: 'default', authType: 'bearer',
        timeout: '10000', maxConcurrency: '4', requestsPerSecond: '0', rejectUnauthorized: true, maxItemsPerRequest: '20', maxPageSize: '300', maxBulkItems: '5000' },
      { id: 'read', type: 'magento-read-orders', z: 'tab', x: 10, y: 10, store: 'store', pageSize: '300', busy: 'wait', overlapSeconds: '0',
        storeKind: 'sqlite', wires: [['map'], ['summary']] },
      { id: 'map', type: 'magento-map-order', z: 'tab', x: 20, y: 10, preset: 'standard', wires: [['mapped'], ['invalid']] },
      { id: 'mapped', type: 'helper', z: 'tab', x: 30, y: 10 },
      { id: 'invalid', type: 'helper', z: 'tab', x: 30, y: 20 },
      { id: 'summary', type: 'helper', z: 'tab', x: 20, y: 20 },
    ];
    await helper.load([storeConfig, readOrders, mapOrder], flow, { store: { token: sandbox.credentials.bearerToken } });
    const mapped = [];
    const invalid = [];
    const summaryDone = new Promise((resolve) => helper.getNode('summary').on('input', resolve));
    helper.getNode('mapped').on('input', (msg) => mapped.push(msg));
    helper.getNode('invalid').on('input', (msg) => invalid.push(msg));
    helper.getNode('read').receive({ payload: 'tick' });
    const summary = await summaryDone;
    // The summary comes once the run's orders were taken by map-order; map-order sends synchronously on input.
    assert.strictEqual(summary.payload.orders, 2000);
    assert.deepStrictEqual(invalid.map((m) => m.failure && m.failure.message), [], 'no invalid orders');
    assert.strictEqual(mapped.length, 2000);
    assert.strictEqual(new Set(mapped.map((m) => m.payload.order_number)).size, 2000, 'each order once');
    for (let i = 1; i < mapped.length; i++) {
      const a = mapped[i - 1].magentoOrder; const b = mapped[i].magentoOrder;
      assert.ok(a.updated_at < b.updated_at || (a.updated_at === b.updated_at && a.entity_id < b.entity_id), `order ${i} in updated_at order`);
    }
    for (const msg of mapped) {
      const { valid, problems } = validateSchema('erp-order', msg.payload);
      assert.ok(valid, `${msg.payload.order_number}: ${JSON.stringify(problems)}`);
      assert.strictEqual(msg.payload.order_number, msg.magentoOrder.increment_id);
      assert.strictEqual(msg.idempotencyKey, `order_${msg.magentoOrder.increment_id}`);
    }
  });
});
