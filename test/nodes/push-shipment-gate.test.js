'use strict';
// The integration flow's shape: idempotency-gate (key = the ERP shipment id) → push-shipment, with a
// Complete node committing the key and a Catch node releasing it. Repeats stop at the gate; push-shipment's
// own marker check is the second line of defence (tested in push-shipment.test.js).
const assert = require('assert');
const { helper, startSandbox, storeConfigNode, recorded, sandboxAvailable } = require('../inventory/node-harness');
const storeConfig = require('../../dist/nodes/store-config/store-config.js');
const pushShipment = require('../../dist/nodes/push-shipment/push-shipment.js');
const gateNode = require('../../dist/nodes/idempotency-gate/idempotency-gate.js');
const core = (p) => require(`@node-red/nodes/core/${p}`);

describe('idempotency-gate → magento-push-shipment (against the Magento sandbox)', function () {
  this.timeout(60000);
  let sandbox;

  before(async function () {
    if (!sandboxAvailable()) this.skip();
    sandbox = await startSandbox({ orders: 5 });
  });
  after(async function () { if (sandbox) await sandbox.close(); });
  beforeEach(function (done) { helper.startServer(done); });
  afterEach(async () => {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
  });

  function arrivals(node) {
    const got = [];
    const waiters = [];
    node.on('input', (msg) => {
      got.push(msg);
      for (const w of waiters.splice(0)) if (got.length >= w.n) w.resolve(got); else waiters.push(w);
    });
    return { got, until: (n) => (got.length >= n ? Promise.resolve(got) : new Promise((resolve) => waiters.push({ n, resolve }))) };
  }

  it('the same ERP shipment sent twice passes the gate once and is shipped once', async function () {
    const store = storeConfigNode(sandbox);
    await helper.load([storeConfig, pushShipment, gateNode, core('common/24-complete.js'), core('common/25-catch.js')], [
      store.node,
      { id: 'gate', type: 'magento-idempotency-gate', keyFrom: 'property', keyProperty: 'payload.shipment_id', commitOnReturn: true, storeKind: 'memory', wires: [['ship'], ['dup'], ['err']] },
      { id: 'ship', type: 'magento-push-shipment', store: 'store', wires: [['out']] },
      { id: 'done', type: 'complete', scope: ['ship'], uncaught: false, wires: [['gate']] },
      { id: 'fail', type: 'catch', scope: ['ship'], uncaught: false, wires: [['gate']] },
      { id: 'out', type: 'helper' },
      { id: 'dup', type: 'helper' },
      { id: 'err', type: 'helper' },
    ], { store: store.credentials });
    const out = arrivals(helper.getNode('out'));
    const dup = arrivals(helper.getNode('dup'));
    const [order] = await sandbox.placeOrders(1);
    const item = order.items.find((i) => !i.parent_item_id);
    const payload = { shipment_id: `GATE-${order.increment_id}`, order_number: order.increment_id, lines: [{ sku: item.sku, qty: 1 }], tracks: [{ carrier: 'ups', title: 'UPS', number: '1Z-GATE' }] };
    const gate = helper.getNode('gate');
    gate.receive({ payload: JSON.parse(JSON.stringify(payload)) });
    await out.until(1);
    gate.receive({ payload: JSON.parse(JSON.stringify(payload)) });
    await dup.until(1);
    assert.strictEqual(out.got[0].payload.created, true);
    assert.strictEqual(dup.got[0].gate.key, payload.shipment_id);
    assert.strictEqual(out.got.length, 1);
    assert.strictEqual(recorded(sandbox, (r) => r.method === 'POST' && r.path.endsWith(`/V1/order/${order.entity_id}/ship`)).length, 1);
  });
});
