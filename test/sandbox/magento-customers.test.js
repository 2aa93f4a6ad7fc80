'use strict';
/**
 * `GET /V1/customers/search` (CustomerRepositoryInterface::getList): searchCriteria over customer
 * attributes, `entity_id` as the id (what read-orders' enrichment sends), CustomerInterface items.
 */
const assert = require('assert');
const { startMagentoSandbox } = require('../../dist/sandbox/magento');
const { createMagentoClient } = require('../../dist/lib/magento/client');
const { enrichOrders } = require('../../dist/lib/orders/enrich');
const { request, sc } = require('./magento-helpers');

const BEARER = { Authorization: 'Bearer sandbox-token' };

describe('Magento sandbox customer search', function () {
  this.timeout(30000);
  let s;
  const get = (path, headers = BEARER) => request(s.url, 'GET', path, { headers });

  before(async () => { s = await startMagentoSandbox({ orders: 80, seed: 5, customers: 60 }); });
  after(async () => { await s.close(); });

  it('finds customers by entity_id in (...) and answers {items, search_criteria, total_count}', async () => {
    const r = await get(`/rest/default/V1/customers/search?${sc({ groups: [[['entity_id', '7,3,5', 'in']]], sort: [['entity_id', 'ASC']] })}`);
    assert.strictEqual(r.status, 200, r.text);
    assert.deepStrictEqual(Object.keys(r.json).sort(), ['items', 'search_criteria', 'total_count']);
    assert.strictEqual(r.json.total_count, 3);
    assert.deepStrictEqual(r.json.items.map((c) => c.id), [3, 5, 7]);
    assert.deepStrictEqual(r.json.search_criteria, {
      filter_groups: [{ filters: [{ field: 'entity_id', value: '7,3,5', condition_type: 'in' }] }],
      sort_orders: [{ field: 'entity_id', direction: 'ASC' }], page_size: 20,
    });
  });

  it('answers each customer as GET /V1/customers/{id} does, in CustomerInterface\'s shape', async () => {
    const r = await get(`/rest/default/V1/customers/search?${sc({ groups: [[['entity_id', 4]]] })}`);
    const one = await get('/rest/default/V1/customers/4');
    assert.deepStrictEqual(r.json.items, [one.json]);
    const c = one.json;
    for (const k of ['id', 'group_id', 'email', 'firstname', 'lastname', 'created_at', 'updated_at', 'store_id', 'website_id', 'addresses', 'disable_auto_group_change', 'extension_attributes']) {
      assert.ok(k in c, `customer.${k}`);
    }
    assert.ok(!('entity_id' in c) && !('name' in c) && !('billing_city' in c), 'search columns stay out of the item');
    assert.match(c.created_at, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    assert.ok(Array.isArray(c.addresses) && c.addresses.length >= 1);
    assert.deepStrictEqual(Object.keys(c.addresses[0].region).sort(), ['region', 'region_code', 'region_id']);
  });

  it('filters on attributes, name and billing address, sorts, and pages like Magento', async () => {
    const all = (await get(`/rest/default/V1/customers/search?${sc({ pageSize: 100 })}`)).json;
    assert.strictEqual(all.total_count, 60);
    const target = all.items[9];
    const byEmail = await get(`/rest/default/V1/customers/search?${sc({ groups: [[['email', target.email.toUpperCase()]]] })}`);
    assert.deepStrictEqual(byEmail.json.items.map((c) => c.id), [target.id], 'MySQL compares e-mails case-insensitively');
    const byName = await get(`/rest/default/V1/customers/search?${sc({ groups: [[['name', `${target.firstname} ${target.lastname}`]]], pageSize: 100 })}`);
    assert.ok(byName.json.items.some((c) => c.id === target.id));
    const city = target.addresses[0].city;
    const byCity = await get(`/rest/default/V1/customers/search?${sc({ groups: [[['billing_city', city]], [['website_id', target.website_id]]], pageSize: 100 })}`);
    assert.ok(byCity.json.items.length > 0);
    for (const c of byCity.json.items) assert.strictEqual(c.addresses[0].city, city);
    const sorted = await get(`/rest/default/V1/customers/search?${sc({ sort: [['email', 'DESC']], pageSize: 100 })}`);
    const emails = sorted.json.items.map((c) => c.email);
    assert.deepStrictEqual(emails, [...emails].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? 1 : -1)));
    const last = await get(`/rest/default/V1/customers/search?${sc({ pageSize: 25, currentPage: 3 })}`);
    const past = await get(`/rest/default/V1/customers/search?${sc({ pageSize: 25, currentPage: 7 })}`);
    assert.deepStrictEqual(past.json.items.map((c) => c.id), last.json.items.map((c) => c.id));
    assert.strictEqual(past.json.items.length, 10);
  });

  it('refuses `id` (not a customer attribute), a missing searchCriteria, and callers without the ACL resource', async () => {
    const id = await get(`/rest/default/V1/customers/search?${sc({ groups: [[['id', 3]]] })}`);
    assert.strictEqual(id.status, 400);
    assert.deepStrictEqual(id.json, { message: 'Invalid attribute name: %1', parameters: ['id'] });
    const sortId = await get(`/rest/default/V1/customers/search?${sc({ sort: [['id', 'ASC']] })}`);
    assert.strictEqual(sortId.status, 400);
    const none = await get('/rest/default/V1/customers/search');
    assert.strictEqual(none.status, 400);
    assert.deepStrictEqual(none.json, { message: '"%fieldName" is required. Enter and try again.', parameters: { fieldName: 'searchCriteria' } });
    const anon = await get(`/rest/default/V1/customers/search?${sc({})}`, {});
    assert.strictEqual(anon.status, 401);
    assert.deepStrictEqual(anon.json.parameters, { resources: 'Magento_Customer::customer' });
  });

  it('serves read-orders\' customer enrichment (entity_id in (...), sorted by entity_id, paged)', async () => {
    const client = createMagentoClient({ name: 'sb', baseUrl: s.url, storeCode: 'default', auth: { type: 'bearer', token: s.credentials.bearerToken } });
    const orders = Array.from({ length: s.seededOrders }, (_, i) => s.getOrder(i + 1));
    const registered = orders.filter((o) => !o.customer_is_guest);
    assert.ok(registered.length > 20);
    const enrichment = await enrichOrders(client, orders, { customer: true });
    for (const o of orders) {
      const customer = enrichment.get(o.entity_id).customer;
      if (o.customer_is_guest) assert.strictEqual(customer, null);
      else {
        assert.ok(customer, `customer of order ${o.increment_id}`);
        assert.strictEqual(customer.id, o.customer_id);
        assert.strictEqual(customer.email, o.customer_email);
      }
    }
  });
});
