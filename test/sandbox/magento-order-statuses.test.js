'use strict';
/**
 * Custom order statuses: Magento 2.4.7's OrderService::addComment lets a comment set only a status
 * assigned to the order's current state. A store's own statuses (assigned in Stores > Order Status) are
 * given to the sandbox as `orderStatuses` ({state: [codes]}), at start or through /__sandbox/config.
 */
const assert = require('assert');
const { startMagentoSandbox } = require('../../dist/sandbox/magento');
const { request } = require('./magento-helpers');

const BEARER = { Authorization: 'Bearer sandbox-token' };

describe('Magento sandbox custom order statuses', function () {
  let s;
  const comment = (id, statusHistory) => request(s.url, 'POST', `/rest/default/V1/orders/${id}/comments`, { headers: BEARER, body: { statusHistory } });

  afterEach(async () => { if (s) await s.close(); s = undefined; });

  it('refuses a status not assigned to the order\'s state, then takes it once assigned', async () => {
    s = await startMagentoSandbox({ orders: 10, seed: 3 });
    const [o] = await s.placeOrders(1);
    const refused = await comment(o.entity_id, { comment: 'Awaiting stock', status: 'pending_stock' });
    assert.strictEqual(refused.status, 400);
    assert.deepStrictEqual(refused.json, { message: 'Unable to add comment: The status "%1" is not part of the order status history.', parameters: ['pending_stock'] });
    const set = await request(s.url, 'POST', '/__sandbox/config', { body: { orderStatuses: { new: ['pending_stock'], processing: ['packing'] } } });
    assert.strictEqual(set.status, 200, set.text);
    assert.deepStrictEqual((await request(s.url, 'GET', '/__sandbox/config')).json.orderStatuses, { new: ['pending_stock'], processing: ['packing'] });
    assert.strictEqual((await comment(o.entity_id, { comment: 'Awaiting stock', status: 'pending_stock' })).json, true);
    const after = s.getOrder(o.entity_id);
    assert.deepStrictEqual([after.state, after.status, after.status_histories[0].status], ['new', 'pending_stock', 'pending_stock']);
    // Still only within the state: `packing` belongs to processing.
    assert.strictEqual((await comment(o.entity_id, { comment: 'x', status: 'packing' })).status, 400);
    // Kept across reset, like the other runtime settings.
    s.reset();
    const [p] = await s.placeOrders(1);
    assert.strictEqual((await comment(p.entity_id, { comment: 'y', status: 'pending_stock' })).status, 200);
  });

  it('takes orderStatuses at start and refuses unknown states and malformed codes', async () => {
    await assert.rejects(startMagentoSandbox({ orderStatuses: { shipped: ['x'] } }), /orderStatuses\.shipped: not an order state/);
    await assert.rejects(startMagentoSandbox({ orderStatuses: { new: ['Pending Stock'] } }), /orderStatuses\.new\[0\]/);
    s = await startMagentoSandbox({ orders: 5, seed: 3, orderStatuses: { new: ['pending_stock'] } });
    const [o] = await s.placeOrders(1);
    assert.strictEqual((await comment(o.entity_id, { comment: 'Awaiting stock', status: 'pending_stock' })).status, 200);
    const bad = await request(s.url, 'POST', '/__sandbox/config', { body: { orderStatuses: { new: 'pending_stock' } } });
    assert.strictEqual(bad.status, 400);
    assert.match(bad.json.message, /orderStatuses\.new: expected a list/);
  });
});
