'use strict';
const assert = require('assert');
const { helper, startSandbox, storeConfigNode, recorded, sandboxAvailable } = require('../inventory/node-harness');
const storeConfig = require('../../dist/nodes/store-config/store-config.js');
const orderUpdate = require('../../dist/nodes/order-update/order-update.js');

describe('magento-order-update node (against the Magento sandbox)', function () {
  this.timeout(60000);
  let sandbox;
  let sent = 0;

  before(async function () {
    if (!sandboxAvailable()) this.skip();
    // pending_stock: a store's own status for state new, as a shop would declare it.
    sandbox = await startSandbox({ orders: 20, orderStatuses: { new: ['pending_stock'] } });
  });
  after(async function () { if (sandbox) await sandbox.close(); });
  beforeEach(function (done) { helper.startServer(done); });
  afterEach(async function () {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
  });

  async function load(nodeConfig = {}) {
    const store = storeConfigNode(sandbox);
    await helper.load([storeConfig, orderUpdate], [
      store.node,
      { id: 'upd', type: 'magento-order-update', store: 'store', wires: [['out']], ...nodeConfig },
      { id: 'out', type: 'helper' },
    ], { store: store.credentials });
    const node = helper.getNode('upd');
    const out = helper.getNode('out');
    // The result message, or the input message with `failure` when the node ended it with done(err).
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

  async function newOrder() {
    const [o] = await sandbox.placeOrders(1);
    return o;
  }

  it('adds a comment and keeps the order status (Magento would blank it without one)', async function () {
    const { send } = await load({ action: 'comment' });
    const order = await newOrder();
    const msg = await send({ order_number: order.increment_id, comment: 'Picked in warehouse East', notify: true });
    assert.ok(!msg.failure, msg.failure && msg.failure.message);
    assert.deepStrictEqual(
      { changed: msg.payload.changed, commented: msg.payload.commented, state: msg.payload.state, status: msg.payload.status, action: msg.payload.action },
      { changed: true, commented: true, state: 'new', status: 'pending', action: 'comment' },
    );
    const after = sandbox.getOrder(order.entity_id);
    assert.strictEqual(after.status, 'pending');
    const entry = after.status_histories.find((h) => h.comment === 'Picked in warehouse East');
    assert.ok(entry, 'comment stored');
    assert.strictEqual(entry.is_customer_notified, 1);
    assert.strictEqual(entry.status, 'pending');
    const post = recorded(sandbox, (r) => r.method === 'POST' && r.path.endsWith(`/V1/orders/${order.entity_id}/comments`));
    assert.strictEqual(post.length, 1);
  });

  it('sets a status with a comment', async function () {
    const { send } = await load();
    const order = await newOrder();
    const msg = await send({ order_number: order.increment_id, action: 'comment', comment: 'Awaiting stock', status: 'pending_stock' });
    assert.ok(!msg.failure, msg.failure && msg.failure.message);
    assert.strictEqual(sandbox.getOrder(order.entity_id).status, 'pending_stock');
  });

  it('hold, hold again (unchanged), unhold, and unhold again (unchanged)', async function () {
    const { send } = await load();
    const order = await newOrder();
    const held = await send({ order_number: order.increment_id, action: 'hold', comment: 'Credit check' });
    assert.strictEqual(held.payload.changed, true);
    assert.strictEqual(held.payload.state, 'holded');
    assert.strictEqual(held.payload.commented, true);
    assert.strictEqual(sandbox.getOrder(order.entity_id).state, 'holded');
    assert.ok(sandbox.getOrder(order.entity_id).status_histories.some((h) => h.comment === 'Credit check' && h.status === 'holded'));

    const again = await send({ order_number: order.increment_id, action: 'hold' });
    assert.strictEqual(again.payload.changed, false);
    assert.strictEqual(recorded(sandbox, (r) => r.path.endsWith(`/V1/orders/${order.entity_id}/hold`)).length, 1);

    const released = await send({ order_number: order.increment_id, action: 'unhold' });
    assert.strictEqual(released.payload.changed, true);
    assert.strictEqual(released.payload.state, 'new');
    const releasedAgain = await send({ order_number: order.increment_id, action: 'unhold' });
    assert.strictEqual(releasedAgain.payload.changed, false);
  });

  it('cancels a new order; a repeated cancel changes nothing', async function () {
    const { send } = await load();
    const order = await newOrder();
    const msg = await send({ order_number: order.increment_id, action: 'cancel' });
    assert.ok(!msg.failure, msg.failure && msg.failure.message);
    assert.strictEqual(msg.payload.changed, true);
    assert.strictEqual(msg.payload.state_before, 'new');
    assert.strictEqual(msg.payload.state, 'canceled');
    assert.strictEqual(sandbox.getOrder(order.entity_id).state, 'canceled');
    const again = await send({ order_number: order.increment_id, action: 'cancel' });
    assert.strictEqual(again.payload.changed, false);
    assert.strictEqual(recorded(sandbox, (r) => r.path.endsWith(`/V1/orders/${order.entity_id}/cancel`)).length, 1);
  });

  it('an impossible transition is a clear permanent error naming the state (Magento answered false / 400)', async function () {
    const { send } = await load();
    // A seeded complete order: Magento's cancel answers false, hold answers 400.
    const { createMagentoClient } = require('../../dist/lib/magento/client.js');
    const client = createMagentoClient({ name: 'sb', baseUrl: sandbox.url, storeCode: 'default', auth: { type: 'bearer', token: sandbox.credentials.bearerToken } });
    const page = await client.search('/orders', { filterGroups: [[{ field: 'state', value: 'complete' }]], pageSize: 1 }, { fields: 'items[entity_id,increment_id],total_count' });
    client.close();
    assert.ok(page.items.length, 'a complete order is seeded');
    const number = page.items[0].increment_id;

    const cancel = await send({ order_number: number, action: 'cancel' });
    assert.strictEqual(cancel.failure.errorClass, 'permanent');
    assert.match(cancel.failure.message, new RegExp(`Magento refused to cancel order ${number} \\(state "complete"`));
    assert.match(cancel.failure.message, /answered false/);
    assert.strictEqual(cancel.failure.details.reason, 'transition-refused');

    const hold = await send({ order_number: number, action: 'hold' });
    assert.strictEqual(hold.failure.errorClass, 'permanent');
    assert.match(hold.failure.message, /Magento refused to hold order .* A hold action is not available\./);
    assert.strictEqual(hold.failure.status, 400);
  });

  it('validates the message: unknown action, missing order number, comment without text', async function () {
    const { send } = await load();
    sandbox.clearRequests();
    const bad = await send({ order_number: '1', action: 'ship' });
    assert.strictEqual(bad.failure.errorClass, 'validation');
    assert.strictEqual(bad.failure.field, 'action');
    const noNumber = await send({ action: 'hold' });
    assert.strictEqual(noNumber.failure.field, 'order_number');
    const noText = await send({ order_number: '1', action: 'comment' });
    assert.strictEqual(noText.failure.field, 'comment');
    assert.strictEqual(recorded(sandbox).length, 0);
  });

  it('an unknown order number is not-found', async function () {
    const { send } = await load();
    const msg = await send({ order_number: 'NOPE-1', action: 'hold' });
    assert.strictEqual(msg.failure.errorClass, 'not-found');
  });
});
