'use strict';
const assert = require('assert');
const { fakeClient } = require('../inventory/fake-client');
const { MagentoError } = require('../../dist/lib/magento/errors');
const { ShipmentPush, OrderUpdater, KeyedLock, markedComment } = require('../../dist/lib/fulfilment');

// A minimal order store answering the routes push-shipment uses, in Magento's shapes.
function magento({ shipments = [], listComments = true, shipAnswer } = {}) {
  const order = {
    entity_id: 5, increment_id: '000000005', state: 'processing', status: 'processing', shipping_amount: 5, shipping_invoiced: 0,
    items: [{ item_id: 50, sku: 'A', product_type: 'simple', qty_ordered: 2, qty_shipped: 0, qty_invoiced: 0, qty_canceled: 0, qty_refunded: 0 }],
  };
  const calls = [];
  const client = fakeClient((req) => {
    calls.push(`${req.method} ${req.path}`);
    if (req.path === '/orders' && req.method === 'GET') return { items: [order], total_count: 1 };
    if (req.path === '/shipments') {
      return { items: shipments.map((s) => (listComments ? s : { ...s, comments: undefined })), total_count: shipments.length };
    }
    const comments = /^\/shipment\/(\d+)\/comments$/.exec(req.path);
    if (comments) return { items: shipments.find((s) => s.entity_id === Number(comments[1])).comments, total_count: 1 };
    if (req.path === '/order/5/ship') {
      if (shipAnswer) return shipAnswer(req);
      shipments.push({ entity_id: 9, order_id: 5, items: req.body.items, tracks: req.body.tracks, comments: [{ comment: req.body.comment.comment }] });
      return 9;
    }
    if (req.path === '/orders/5') return { entity_id: 5, state: 'processing', status: 'processing' };
    throw new Error(`unexpected ${req.method} ${req.path}`);
  });
  return { client, calls, order, shipments };
}

describe('ShipmentPush (fake client)', () => {
  it('finds an earlier shipment through the comments route when the list leaves comments out', async () => {
    const m = magento({ listComments: false, shipments: [{ entity_id: 3, order_id: 5, items: [{ order_item_id: 50, qty: 1 }], comments: [{ comment: markedComment('S-1', 'packed') }] }] });
    const result = await new ShipmentPush(m.client).push({ shipment_id: 'S-1', order_number: '000000005', lines: [{ sku: 'A', qty: 1 }] });
    assert.strictEqual(result.created, false);
    assert.strictEqual(result.shipment_id, 3);
    assert.ok(m.calls.includes('GET /shipment/3/comments'));
    assert.ok(!m.calls.some((c) => c.endsWith('/ship')));
  });

  it('sends the marker after the ERP comment and the tracks in Magento\'s names', async () => {
    const m = magento();
    let body;
    m.shipments.length = 0;
    const push = new ShipmentPush(m.client, { notify: false });
    const orig = m.client.request;
    m.client.request = async (req) => { if (req.path === '/order/5/ship') body = req.body; return orig(req); };
    await push.push({ shipment_id: 'S-2', order_number: '000000005', lines: [{ sku: 'A', qty: 2 }], tracks: [{ carrier: 'dhl', title: 'DHL', number: 'JD1' }], comment: 'Left at door' });
    assert.deepStrictEqual(body.items, [{ order_item_id: 50, qty: 2 }]);
    assert.deepStrictEqual(body.tracks, [{ track_number: 'JD1', title: 'DHL', carrier_code: 'dhl' }]);
    assert.strictEqual(body.comment.comment, 'Left at door\n[ERP shipment S-2]');
    assert.strictEqual(body.comment.is_visible_on_front, 0);
    assert.strictEqual(body.notify, false);
  });

  it('maps Magento\'s refusal to a clear error that keeps its class and message', async () => {
    const m = magento({
      shipAnswer: () => { throw new MagentoError('validation', 'POST ... failed: 400 ...', { status: 400, magentoMessage: 'Shipment Document Validation Error(s):\nThe order does not allow a shipment to be created.' }); },
    });
    await assert.rejects(new ShipmentPush(m.client).push({ shipment_id: 'S-3', order_number: '000000005', lines: [{ sku: 'A', qty: 1 }] }), (err) => {
      assert.strictEqual(err.errorClass, 'validation');
      assert.strictEqual(err.status, 400);
      assert.match(err.message, /^Magento refused to ship order 000000005 \(ERP shipment S-3\): Shipment Document Validation Error/);
      assert.strictEqual(err.details.erp_shipment_id, 'S-3');
      return true;
    });
  });

  it('a network failure on ship stays transient and says it could not ship', async () => {
    const m = magento({ shipAnswer: () => { throw new MagentoError('transient', 'POST /rest/default/V1/order/5/ship failed: no answer within 10 ms', { code: 'ETIMEDOUT' }); } });
    await assert.rejects(new ShipmentPush(m.client).push({ shipment_id: 'S-4', order_number: '000000005', lines: [{ sku: 'A', qty: 1 }] }), (err) => {
      assert.strictEqual(err.errorClass, 'transient');
      assert.match(err.message, /^Could not ship order 000000005/);
      return true;
    });
  });
});

describe('OrderUpdater (fake client)', () => {
  it('a 5xx on hold stays transient (retry-queue retries it), a 400 is a permanent refusal', async () => {
    let answer;
    const client = fakeClient((req) => {
      if (req.path === '/orders' && req.method === 'GET') return { items: [{ entity_id: 8, increment_id: '8', state: 'processing', status: 'processing' }], total_count: 1 };
      if (req.path === '/orders/8/hold') return answer();
      if (req.path === '/orders/8') return { state: 'processing', status: 'processing' };
      throw new Error(`unexpected ${req.path}`);
    });
    const updater = new OrderUpdater(client);
    answer = () => { throw new MagentoError('transient', 'POST failed: 503', { status: 503 }); };
    await assert.rejects(updater.update({ order_number: '8', action: 'hold' }), (e) => e.errorClass === 'transient' && /^Could not hold order 8/.test(e.message));
    answer = () => { throw new MagentoError('validation', 'POST failed: 400', { status: 400, magentoMessage: 'A hold action is not available.' }); };
    await assert.rejects(updater.update({ order_number: '8', action: 'hold' }), (e) => e.errorClass === 'permanent' && /A hold action is not available\./.test(e.message));
  });
});

describe('KeyedLock', () => {
  it('runs one task per key at a time, other keys in parallel, and forgets idle keys', async () => {
    const lock = new KeyedLock();
    const order = [];
    let release;
    const gate = new Promise((r) => { release = r; });
    const a = lock.run('o1', async () => { order.push('a-start'); await gate; order.push('a-end'); });
    const b = lock.run('o1', async () => { order.push('b'); });
    const c = lock.run('o2', async () => { order.push('c'); });
    await c;
    assert.deepStrictEqual(order, ['a-start', 'c']);
    release();
    await Promise.all([a, b]);
    assert.deepStrictEqual(order, ['a-start', 'c', 'a-end', 'b']);
    assert.strictEqual(lock.size, 0);
  });

  it('a failing task does not block the next one', async () => {
    const lock = new KeyedLock();
    await assert.rejects(lock.run('k', async () => { throw new Error('x'); }), /x/);
    assert.strictEqual(await lock.run('k', async () => 7), 7);
  });
});
