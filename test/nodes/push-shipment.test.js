'use strict';
const assert = require('assert');
const { helper, startSandbox, storeConfigNode, collector, recorded, sandboxAvailable } = require('../inventory/node-harness');
const storeConfig = require('../../dist/nodes/store-config/store-config.js');
const pushShipment = require('../../dist/nodes/push-shipment/push-shipment.js');

describe('magento-push-shipment node (against the Magento sandbox)', function () {
  this.timeout(60000);
  let sandbox;
  let sent = 0;

  before(async function () {
    if (!sandboxAvailable()) this.skip();
    sandbox = await startSandbox({ orders: 20 });
  });
  after(async function () { if (sandbox) await sandbox.close(); });
  beforeEach(function (done) { helper.startServer(done); });
  afterEach(async function () {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
  });

  async function load(nodeConfig = {}) {
    const store = storeConfigNode(sandbox);
    await helper.load([storeConfig, pushShipment], [
      store.node,
      { id: 'ship', type: 'magento-push-shipment', store: 'store', wires: [['out']], ...nodeConfig },
      { id: 'out', type: 'helper' },
    ], { store: store.credentials });
    const node = helper.getNode('ship');
    const out = helper.getNode('out');
    /**
     * Sends one message; resolves with the result message, or with the input message carrying
     * `failure` when the node ended it with done(err) (which Node-RED reports through node.error).
     */
    function send(payload) {
      const id = `m${++sent}`;
      return new Promise((resolve) => {
        // Several sends may be in flight: each waits for its own message (the node keeps _msgid).
        const onOut = (msg) => { if (msg._msgid === id) { cleanup(); resolve(msg); } };
        const onError = (call) => { if (call.args[1] && call.args[1]._msgid === id) { cleanup(); resolve(call.args[1]); } };
        const cleanup = () => { out.removeListener('input', onOut); node.removeListener('call:error', onError); };
        out.on('input', onOut);
        node.on('call:error', onError);
        node.receive({ _msgid: id, payload });
      });
    }
    return { node, send };
  }

  /** Places orders until one matches (the sandbox is seeded, so this is deterministic). */
  async function placeOrderWhere(test) {
    for (let i = 0; i < 60; i++) {
      const [o] = await sandbox.placeOrders(1);
      if (test(o)) return o;
    }
    throw new Error('no such order placed');
  }

  const units = (o) => o.items.filter((i) => !i.parent_item_id).reduce((s, i) => s + i.qty_ordered, 0);
  const shipPosts = (orderId) => recorded(sandbox, (r) => r.method === 'POST' && r.path.endsWith(`/V1/order/${orderId}/ship`));

  it('part deliveries, each with its own invoice: the first carries the shipping fee, the second only products; processing → complete', async function () {
    const { send } = await load({ invoice: 'message' });
    const order = await placeOrderWhere((o) => o.shipping_amount > 0 && units(o) >= 2 && o.items.every((i) => i.product_type === 'simple'));
    const lines = order.items.map((i) => ({ sku: i.sku, qty: i.qty_ordered }));
    // First parcel: one unit of the first line.
    const first = await send({ shipment_id: `P1-${order.increment_id}`, order_number: order.increment_id, lines: [{ sku: lines[0].sku, qty: 1 }], tracks: [{ carrier: 'ups', title: 'UPS', number: '1Z-FIRST' }], invoice: true });
    assert.ok(!first.failure, first.failure && first.failure.message);
    const r1 = first.payload;
    assert.strictEqual(r1.created, true);
    assert.strictEqual(r1.order_id, order.entity_id);
    assert.ok(r1.invoice_id > 0);
    assert.strictEqual(r1.invoice.includes_shipping, true);
    assert.strictEqual(r1.invoice.shipping_amount, order.shipping_amount);
    assert.deepStrictEqual(r1.invoice.items, [{ order_item_id: order.items[0].item_id, qty: 1 }]);
    assert.strictEqual(r1.order_state, 'processing');
    assert.deepStrictEqual(r1.tracks, [{ carrier_code: 'ups', title: 'UPS', track_number: '1Z-FIRST' }]);
    assert.strictEqual(first.erpShipment.shipment_id, `P1-${order.increment_id}`);

    // Second parcel: everything left.
    const rest = lines.map((l, i) => ({ sku: l.sku, qty: i === 0 ? l.qty - 1 : l.qty })).filter((l) => l.qty > 0);
    const second = await send({ shipment_id: `P2-${order.increment_id}`, order_number: order.increment_id, lines: rest, tracks: [{ carrier: 'dhl', title: 'DHL', number: 'JD-SECOND' }], invoice: true });
    assert.ok(!second.failure, second.failure && second.failure.message);
    const r2 = second.payload;
    assert.notStrictEqual(r2.shipment_id, r1.shipment_id);
    assert.notStrictEqual(r2.invoice_id, r1.invoice_id);
    assert.strictEqual(r2.invoice.includes_shipping, false);
    assert.strictEqual(r2.invoice.shipping_amount || 0, 0);
    assert.strictEqual(r2.order_state, 'complete');

    const after = sandbox.getOrder(order.entity_id);
    assert.strictEqual(after.state, 'complete');
    for (const item of after.items) {
      assert.strictEqual(item.qty_shipped, item.qty_ordered, `item ${item.sku} shipped`);
      assert.strictEqual(item.qty_invoiced, item.qty_ordered, `item ${item.sku} invoiced`);
    }
    assert.strictEqual(after.shipping_invoiced, order.shipping_amount);
  });

  it('rejects over-shipping before calling Magento, naming the line index and SKU', async function () {
    const { send } = await load();
    const order = await placeOrderWhere((o) => o.items.length >= 1);
    const item = order.items.find((i) => !i.parent_item_id);
    sandbox.clearRequests();
    const msg = await send({ shipment_id: `OVER-${order.increment_id}`, order_number: order.increment_id, lines: [{ sku: item.sku, qty: item.qty_ordered + 1 }], tracks: [] });
    assert.ok(msg.failure, 'caught');
    assert.strictEqual(msg.failure.errorClass, 'validation');
    assert.strictEqual(msg.failure.field, 'lines[0].qty');
    assert.match(msg.failure.message, new RegExp(`more than the ${item.qty_ordered} still to ship of "${item.sku.replace(/[/]/g, '\\/')}"`));
    assert.deepStrictEqual(msg.failure.details.problems.map((p) => [p.index, p.sku]), [[0, item.sku]]);
    assert.strictEqual(shipPosts(order.entity_id).length, 0, 'no ship call');
    assert.strictEqual(sandbox.getOrder(order.entity_id).items.find((i) => i.item_id === item.item_id).qty_shipped, 0);
    // The input is kept for a retry or the dead-letter list.
    assert.strictEqual(msg.payload.shipment_id, `OVER-${order.increment_id}`);
  });

  it('rejects an SKU that is not in the order, listing every bad line', async function () {
    const { send } = await load();
    const order = await placeOrderWhere((o) => o.items.length >= 1);
    const item = order.items.find((i) => !i.parent_item_id);
    const msg = await send({ shipment_id: `UNK-${order.increment_id}`, order_number: order.increment_id, lines: [{ sku: item.sku, qty: 1 }, { sku: 'NOT IN/ORDER', qty: 1 }], tracks: [] });
    assert.strictEqual(msg.failure.errorClass, 'validation');
    assert.strictEqual(msg.failure.field, 'lines[1].sku');
    assert.match(msg.failure.message, /"NOT IN\/ORDER" is not an item of order/);
    assert.strictEqual(shipPosts(order.entity_id).length, 0);
  });

  it('an unknown order number is a not-found failure', async function () {
    const { send } = await load();
    const msg = await send({ shipment_id: 'X-1', order_number: '999999999', lines: [{ sku: 'A', qty: 1 }] });
    assert.strictEqual(msg.failure.errorClass, 'not-found');
    assert.match(msg.failure.message, /Order "999999999" does not exist/);
  });

  it('a configurable child SKU ships (and invoices) the parent order item; the child follows', async function () {
    const { send } = await load({ invoice: 'always' });
    const order = await placeOrderWhere((o) => o.items.some((i) => i.product_type === 'configurable'));
    const parent = order.items.find((i) => i.product_type === 'configurable');
    const child = order.items.find((i) => i.parent_item_id === parent.item_id);
    const msg = await send({ shipment_id: `CFG-${order.increment_id}`, order_number: order.increment_id, lines: [{ sku: child.sku, qty: 1 }], tracks: [{ carrier: 'custom', title: 'Courier', number: 'C-1' }] });
    assert.ok(!msg.failure, msg.failure && msg.failure.message);
    assert.deepStrictEqual(msg.payload.lines, [{ index: 0, sku: child.sku, qty: 1, order_item_ids: [parent.item_id], via_parent: true }]);
    assert.deepStrictEqual(msg.payload.invoice.items, [{ order_item_id: parent.item_id, qty: 1 }]);
    const post = shipPosts(order.entity_id);
    assert.strictEqual(post.length, 1);
    const after = sandbox.getOrder(order.entity_id);
    assert.strictEqual(after.items.find((i) => i.item_id === parent.item_id).qty_shipped, 1);
    assert.strictEqual(after.items.find((i) => i.item_id === child.item_id).qty_shipped, 1);
  });

  it('a repeated shipment (same ERP shipment id) creates nothing twice, even without a gate', async function () {
    const { send } = await load();
    const order = await placeOrderWhere((o) => units(o) >= 2);
    const item = order.items.find((i) => !i.parent_item_id);
    const payload = { shipment_id: `REP-${order.increment_id}`, order_number: order.increment_id, lines: [{ sku: item.sku, qty: 1 }], tracks: [{ carrier: 'ups', title: 'UPS', number: '1Z-REP' }], invoice: true };
    const first = await send(payload);
    assert.strictEqual(first.payload.created, true);
    const again = await send(JSON.parse(JSON.stringify(payload)));
    assert.ok(!again.failure, again.failure && again.failure.message);
    assert.strictEqual(again.payload.created, false);
    assert.strictEqual(again.payload.shipment_id, first.payload.shipment_id);
    assert.strictEqual(again.payload.invoice.existing, true);
    assert.strictEqual(again.payload.invoice_id, first.payload.invoice_id);
    assert.strictEqual(shipPosts(order.entity_id).length, 1);
    assert.strictEqual(recorded(sandbox, (r) => r.method === 'POST' && r.path.endsWith(`/V1/order/${order.entity_id}/invoice`)).length, 1);
    assert.strictEqual(sandbox.getOrder(order.entity_id).items.find((i) => i.item_id === item.item_id).qty_shipped, 1);
  });

  it('a shipment whose invoice failed (503) is finished by the retry: the invoice only, never a second shipment', async function () {
    const { send } = await load();
    const order = await placeOrderWhere((o) => o.items.every((i) => i.product_type === 'simple'));
    const item = order.items[0];
    const payload = { shipment_id: `HALF-${order.increment_id}`, order_number: order.increment_id, lines: [{ sku: item.sku, qty: 1 }], tracks: [], invoice: true };
    // (No leading "/" in the route: the sandbox reads "/a/b/invoice" as a /regex/flags pattern.)
    sandbox.setFaults({ next: [{ count: 1, fault: 503, route: `V1/order/${order.entity_id}/invoice`, method: 'POST' }] });
    const failed = await send(payload);
    sandbox.setFaults({});
    assert.strictEqual(failed.failure.errorClass, 'transient');
    assert.match(failed.failure.message, /was created for ERP shipment HALF-.*but the invoice failed/);
    assert.strictEqual(failed.failure.details.shipment_created, true);
    const retried = await send(failed.payload);
    assert.ok(!retried.failure, retried.failure && retried.failure.message);
    assert.strictEqual(retried.payload.created, false);
    assert.ok(retried.payload.invoice_id > 0);
    assert.strictEqual(retried.payload.invoice.existing, undefined);
    assert.strictEqual(shipPosts(order.entity_id).length, 1);
    const after = sandbox.getOrder(order.entity_id).items[0];
    assert.strictEqual(after.qty_shipped, 1);
    assert.strictEqual(after.qty_invoiced, 1);
  });

  it('two deliveries for one order at the same time never both spend what is left: the second is refused', async function () {
    const { send } = await load();
    const order = await placeOrderWhere((o) => o.items.some((i) => !i.parent_item_id && i.qty_ordered >= 2));
    const item = order.items.find((i) => !i.parent_item_id && i.qty_ordered >= 2);
    const lines = [{ sku: item.sku, qty: item.qty_ordered }];
    const [a, b] = await Promise.all([
      send({ shipment_id: `RACE-A-${order.increment_id}`, order_number: order.increment_id, lines }),
      send({ shipment_id: `RACE-B-${order.increment_id}`, order_number: order.increment_id, lines }),
    ]);
    const outcomes = [a, b].map((m) => (m.failure ? m.failure.field : 'shipped')).sort();
    assert.deepStrictEqual(outcomes, ['lines[0].qty', 'shipped']);
    assert.strictEqual(shipPosts(order.entity_id).length, 1);
    assert.strictEqual(sandbox.getOrder(order.entity_id).items.find((i) => i.item_id === item.item_id).qty_shipped, item.qty_ordered);
  });

  it('an order on hold is refused with its state; Magento is not asked to ship', async function () {
    const { send } = await load();
    const order = await placeOrderWhere((o) => o.items.length >= 1);
    const { createMagentoClient } = require('../../dist/lib/magento/client.js');
    const client = createMagentoClient({ name: 'sb', baseUrl: sandbox.url, storeCode: 'default', auth: { type: 'bearer', token: sandbox.credentials.bearerToken } });
    await client.request({ method: 'POST', path: `/orders/${order.entity_id}/hold` });
    client.close();
    const item = order.items.find((i) => !i.parent_item_id);
    const msg = await send({ shipment_id: `HOLD-${order.increment_id}`, order_number: order.increment_id, lines: [{ sku: item.sku, qty: 1 }] });
    assert.strictEqual(msg.failure.errorClass, 'permanent');
    assert.match(msg.failure.message, /is on hold/);
    assert.strictEqual(shipPosts(order.entity_id).length, 0);
  });

  it('an invalid message fails with a validation error and never reaches Magento', async function () {
    const { send } = await load();
    sandbox.clearRequests();
    const msg = await send({ order_number: '1', lines: [{ sku: ' X', qty: -1 }] });
    assert.strictEqual(msg.failure.errorClass, 'validation');
    assert.strictEqual(msg.failure.field, 'shipment_id');
    assert.deepStrictEqual(msg.failure.details.problems.map((p) => p.field), ['shipment_id', 'lines[0].sku', 'lines[0].qty']);
    assert.strictEqual(recorded(sandbox).length, 0);
  });
});
