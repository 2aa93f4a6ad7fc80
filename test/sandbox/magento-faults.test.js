'use strict';
/**
 * Where the sandbox's faults apply: `route` is plain text the path contains (raw or percent-decoded),
 * whatever it looks like; a regular expression only ever comes as `routeRegex`.
 */
const assert = require('assert');
const { startMagentoSandbox } = require('../../dist/sandbox/magento');
const { request } = require('./magento-helpers');

const BEARER = { Authorization: 'Bearer sandbox-token' };

describe('Magento sandbox fault routes', function () {
  let s;
  const get = (path) => request(s.url, 'GET', path, { headers: BEARER });
  const faults = (body) => request(s.url, 'POST', '/__sandbox/faults', { body });

  before(async () => { s = await startMagentoSandbox({ orders: 40, seed: 7 }); });
  after(async () => { await s.close(); });
  beforeEach(() => s.reset());

  it('reads a route ending in letters that are also regex flags as plain text ("/V1/products/mug")', async () => {
    // Read as /rest/all/V1/products/ + flags "mug", it failed every product request instead.
    assert.strictEqual((await faults({ next: [{ count: 1, fault: 503, route: '/V1/products/mug' }] })).status, 200);
    assert.strictEqual((await get('/rest/all/V1/products/24-MB01')).status, 200);
    assert.strictEqual((await get('/rest/all/V1/products/mug')).status, 503);
    assert.strictEqual((await get('/rest/all/V1/products/mug')).status, 404, 'the rule was used once');
  });

  it('reads a route with a trailing slash as plain text ("/V1/orders/1/")', async () => {
    await faults({ next: [{ count: 1, fault: 500, route: '/V1/orders/1/' }] });
    assert.strictEqual((await get('/rest/default/V1/orders/12')).status, 200);
    assert.strictEqual((await get('/rest/default/V1/orders/1/comments')).status, 500);
  });

  it('matches a path prefix like /V1/order/{id}/invoice for one method only', async () => {
    const [order] = await s.placeOrders(1);
    s.setFaults({ next: [{ count: 1, fault: 503, route: `/V1/order/${order.entity_id}/invoice`, method: 'POST' }] });
    const ship = await request(s.url, 'POST', `/rest/default/V1/order/${order.entity_id}/ship`, { headers: BEARER, body: {} });
    assert.strictEqual(ship.status, 200);
    const invoice = await request(s.url, 'POST', `/rest/default/V1/order/${order.entity_id}/invoice`, { headers: BEARER, body: {} });
    assert.strictEqual(invoice.status, 503);
    const again = await request(s.url, 'POST', `/rest/default/V1/order/${order.entity_id}/invoice`, { headers: BEARER, body: {} });
    assert.strictEqual(again.status, 200);
  });

  it('matches the percent-decoded path too (SKUs with "/")', async () => {
    s.setFaults({ next: [{ count: 1, fault: 502, route: '/V1/products/BAG/WAYFARER' }] });
    assert.strictEqual((await get('/rest/all/V1/products/BAG%2FWAYFARER')).status, 502);
  });

  it('takes a regular expression only as routeRegex', async () => {
    const set = await faults({ next: [{ count: 2, fault: 503, routeRegex: '^/rest/(de|fr)/V1/orders/\\d+$' }] });
    assert.strictEqual(set.status, 200);
    assert.deepStrictEqual(set.json.next, [{ count: 2, fault: 503, routeRegex: '^/rest/(de|fr)/V1/orders/\\d+$' }]);
    assert.strictEqual((await get('/rest/default/V1/orders/1')).status, 200);
    assert.strictEqual((await get('/rest/fr/V1/orders/3/comments')).status, 200);
    assert.strictEqual((await get('/rest/de/V1/orders/3')).status, 503);
    assert.strictEqual((await get('/rest/fr/V1/orders/3')).status, 503);
    assert.strictEqual((await get('/rest/fr/V1/orders/3')).status, 200);
  });

  it('limits random faults by route or routeRegex', async () => {
    s.setFaults({ rate503: 1, route: '/V1/inventory/' });
    assert.strictEqual((await get('/rest/default/V1/orders/1')).status, 200);
    assert.strictEqual((await get('/rest/default/V1/inventory/sources')).status, 503);
    s.setFaults({ rate500: 1, routeRegex: 'V1/orders/\\d+/comments$' });
    assert.strictEqual((await get('/rest/default/V1/orders/1')).status, 200);
    assert.strictEqual((await get('/rest/default/V1/orders/1/comments')).status, 500);
  });

  it('refuses an old-style /regex/ in route and an invalid routeRegex, naming the field', async () => {
    const old = await faults({ next: [{ count: 1, fault: 503, route: '/^\\/rest\\/default\\/V1\\/orders/' }] });
    assert.strictEqual(old.status, 400);
    assert.match(old.json.message, /faults\.next\[0\]\.route: .*routeRegex/);
    const bad = await faults({ rate503: 1, routeRegex: '(' });
    assert.strictEqual(bad.status, 400);
    assert.match(bad.json.message, /^faults\.routeRegex: not a valid regular expression/);
    assert.throws(() => s.setFaults({ next: [{ count: 1, fault: 503, routeRegex: '[' }] }), /faults\.next\[0\]\.routeRegex/);
  });
});
