'use strict';
const assert = require('assert');
const http = require('http');
const crypto = require('crypto');
const { startMagentoSandbox, SANDBOX_DEFAULTS } = require('../../dist/sandbox/magento');
const { signRequest } = require('../../dist/lib/magento/oauth1');
const { request, sc, until } = require('./magento-helpers');

const BEARER = { Authorization: 'Bearer sandbox-token' };

describe('Magento sandbox', function () {
  let s;
  const get = (path, headers = BEARER) => request(s.url, 'GET', path, { headers });
  const post = (path, body, headers = BEARER) => request(s.url, 'POST', path, { headers, body });
  const put = (path, body, headers = BEARER) => request(s.url, 'PUT', path, { headers, body });

  before(async () => { s = await startMagentoSandbox({ orders: 120, seed: 7 }); });
  after(async () => { await s.close(); });
  beforeEach(() => s.reset());

  describe('orders and searchCriteria', () => {
    it('refuses GET /V1/orders without searchCriteria with Magento\'s 400', async () => {
      const r = await get('/rest/default/V1/orders');
      assert.strictEqual(r.status, 400);
      assert.deepStrictEqual(r.json, { message: '"%fieldName" is required. Enter and try again.', parameters: { fieldName: 'searchCriteria' } });
    });

    it('answers {items, search_criteria, total_count} and echoes the criteria in snake_case', async () => {
      const r = await get(`/rest/default/V1/orders?${sc({ groups: [[['status', 'pending']]], sort: [['entity_id', 'DESC']], pageSize: 5, currentPage: 1 })}`);
      assert.strictEqual(r.status, 200);
      assert.deepStrictEqual(Object.keys(r.json).sort(), ['items', 'search_criteria', 'total_count']);
      assert.deepStrictEqual(r.json.search_criteria, {
        filter_groups: [{ filters: [{ field: 'status', value: 'pending', condition_type: 'eq' }] }],
        sort_orders: [{ field: 'entity_id', direction: 'DESC' }], page_size: 5, current_page: 1,
      });
      assert.ok(r.json.total_count > 0);
      for (const o of r.json.items) assert.strictEqual(o.status, 'pending');
      const ids = r.json.items.map((o) => o.entity_id);
      assert.deepStrictEqual(ids, [...ids].sort((a, b) => b - a));
    });

    it('returns the LAST page again for a currentPage past the end (stop by total_count)', async () => {
      const last = await get(`/rest/default/V1/orders?${sc({ pageSize: 50, currentPage: 3 })}`);
      const past = await get(`/rest/default/V1/orders?${sc({ pageSize: 50, currentPage: 9 })}`);
      assert.strictEqual(past.status, 200);
      assert.strictEqual(past.json.total_count, 120);
      assert.deepStrictEqual(past.json.items.map((o) => o.entity_id), last.json.items.map((o) => o.entity_id));
      assert.deepStrictEqual(past.json.items.map((o) => o.entity_id), Array.from({ length: 20 }, (_, i) => 101 + i));
      assert.strictEqual(past.json.search_criteria.current_page, 9);
    });

    it('ORs filters inside a group and ANDs groups', async () => {
      const or = await get(`/rest/default/V1/orders?${sc({ groups: [[['entity_id', 3], ['entity_id', 9]]], pageSize: 10 })}`);
      assert.deepStrictEqual(or.json.items.map((o) => o.entity_id), [3, 9]);
      const and = await get(`/rest/default/V1/orders?${sc({ groups: [[['entity_id', 3], ['entity_id', 9]], [['entity_id', 5, 'gt']]], pageSize: 10 })}`);
      assert.deepStrictEqual(and.json.items.map((o) => o.entity_id), [9]);
      // from and to in ONE group are OR'ed, as in Magento: everything matches.
      const loose = await get(`/rest/default/V1/orders?${sc({ groups: [[['entity_id', 10, 'from'], ['entity_id', 20, 'to']]], pageSize: 1 })}`);
      assert.strictEqual(loose.json.total_count, 120);
      const range = await get(`/rest/default/V1/orders?${sc({ groups: [[['entity_id', 10, 'from']], [['entity_id', 20, 'to']]], pageSize: 1 })}`);
      assert.strictEqual(range.json.total_count, 11);
    });

    it('supports in, nin, like, null, notnull, neq, finset and sorts by any column', async () => {
      const inq = await get(`/rest/default/V1/orders?${sc({ groups: [[['entity_id', '4,8,15', 'in']]], pageSize: 10 })}`);
      assert.deepStrictEqual(inq.json.items.map((o) => o.entity_id), [4, 8, 15]);
      const nin = await get(`/rest/default/V1/orders?${sc({ groups: [[['entity_id', '4,8,15', 'nin']]], pageSize: 1 })}`);
      assert.strictEqual(nin.json.total_count, 117);
      const like = await get(`/rest/default/V1/orders?${sc({ groups: [[['customer_email', '%@EXAMPLE.ORG', 'like']]], pageSize: 300 })}`);
      assert.ok(like.json.total_count > 0);
      for (const o of like.json.items) { assert.match(o.customer_email, /@example\.org$/); assert.strictEqual(o.customer_is_guest, 1); }
      const guests = await get(`/rest/default/V1/orders?${sc({ groups: [[['customer_id', '', 'null']]], pageSize: 1 })}`);
      const members = await get(`/rest/default/V1/orders?${sc({ groups: [[['customer_id', '', 'notnull']]], pageSize: 1 })}`);
      assert.strictEqual(guests.json.total_count + members.json.total_count, 120);
      assert.strictEqual(guests.json.total_count, like.json.total_count);
      const neq = await get(`/rest/default/V1/orders?${sc({ groups: [[['store_id', 1, 'neq']]], pageSize: 300 })}`);
      for (const o of neq.json.items) assert.notStrictEqual(o.store_id, 1);
      const byTotal = await get(`/rest/default/V1/orders?${sc({ sort: [['grand_total', 'DESC']], pageSize: 300 })}`);
      const totals = byTotal.json.items.map((o) => o.grand_total);
      assert.deepStrictEqual(totals, [...totals].sort((a, b) => b - a));
      const fin = await get(`/rest/default/V1/orders?${sc({ groups: [[['status', 'complete', 'finset']]], pageSize: 300 })}`);
      for (const o of fin.json.items) assert.strictEqual(o.status, 'complete');
    });

    it('compares dates as MySQL does and keeps created_at/updated_at in YYYY-MM-DD HH:MM:SS UTC', async () => {
      const one = await get('/rest/default/V1/orders/60');
      assert.match(one.json.created_at, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      const after = await get(`/rest/default/V1/orders?${sc({ groups: [[['updated_at', one.json.updated_at, 'gt']]], sort: [['updated_at', 'ASC']], pageSize: 300 })}`);
      assert.strictEqual(after.json.total_count, 60);
      assert.strictEqual(after.json.items[0].entity_id, 61);
      const day = one.json.created_at.slice(0, 10);
      const fromDay = await get(`/rest/default/V1/orders?${sc({ groups: [[['created_at', day, 'gteq']]], pageSize: 1 })}`);
      assert.ok(fromDay.json.total_count >= 60);
    });

    it('trims the answer with fields=', async () => {
      const r = await get(`/rest/default/V1/orders?${sc({ pageSize: 2 })}&fields=items[increment_id,status,items[sku]],total_count`);
      assert.deepStrictEqual(Object.keys(r.json).sort(), ['items', 'total_count']);
      assert.deepStrictEqual(Object.keys(r.json.items[0]).sort(), ['increment_id', 'items', 'status']);
      assert.deepStrictEqual(Object.keys(r.json.items[0].items[0]), ['sku']);
    });

    it('refuses a pageSize above the input limit and fills a missing one with the default', async () => {
      const big = await get(`/rest/default/V1/orders?${sc({ pageSize: 301 })}`);
      assert.strictEqual(big.status, 400);
      assert.deepStrictEqual(big.json, { message: 'Maximum SearchCriteria pageSize is %max', parameters: { max: 300 } });
      const none = await get('/rest/default/V1/orders?searchCriteria=');
      assert.strictEqual(none.json.items.length, 20);
      assert.strictEqual(none.json.search_criteria.page_size, 20);
    });

    it('answers state/status filters and sorts without building orders, consistently with the built ones', async () => {
      const all = (await get(`/rest/default/V1/orders?${sc({ pageSize: 120 })}`)).json.items;
      for (const status of ['pending', 'processing', 'complete', 'canceled', 'holded']) {
        const r = await get(`/rest/default/V1/orders?${sc({ groups: [[['status', status]]], pageSize: 1 })}`);
        assert.strictEqual(r.json.total_count, all.filter((o) => o.status === status).length, status);
      }
      const bySt = await get(`/rest/default/V1/orders?${sc({ groups: [[['state', 'new,processing', 'in']]], sort: [['status', 'DESC'], ['entity_id', 'ASC']], pageSize: 120 })}`);
      const expected = all.filter((o) => ['new', 'processing'].includes(o.state))
        .sort((a, b) => (a.status < b.status ? 1 : a.status > b.status ? -1 : a.entity_id - b.entity_id)).map((o) => o.entity_id);
      assert.deepStrictEqual(bySt.json.items.map((o) => o.entity_id), expected);
      const zero = await get(`/rest/default/V1/orders?${sc({ pageSize: 0 })}`);
      assert.strictEqual(zero.status, 400);
      assert.strictEqual(zero.json.message, 'Minimum SearchCriteria pageSize is %min');
    });

    it('answers an unknown filter column with Magento\'s production-mode 500', async () => {
      const r = await get(`/rest/default/V1/orders?${sc({ groups: [[['no_such_column', 1]]] })}`);
      assert.strictEqual(r.status, 500);
      assert.strictEqual(r.json.message, 'Internal Error. Details are available in Magento log file. Report ID: %1');
      assert.match(r.json.parameters[0], /^webapi-/);
    });

    it('shapes orders like Magento: configurable parent + child at price 0, addresses, payment, shipping assignments, no nulls', async () => {
      let found;
      for (let id = 1; id <= 120 && !found; id++) {
        const o = (await get(`/rest/default/V1/orders/${id}`)).json;
        if (o.items.some((i) => i.product_type === 'configurable')) found = o;
      }
      assert.ok(found, 'a seeded order with a configurable line');
      const parent = found.items.find((i) => i.product_type === 'configurable');
      const child = found.items.find((i) => i.parent_item_id === parent.item_id);
      assert.ok(child);
      assert.strictEqual(child.price, 0);
      assert.ok(parent.price > 0);
      assert.strictEqual(child.parent_item.item_id, parent.item_id);
      assert.ok(Array.isArray(found.billing_address.street));
      assert.ok(found.payment.method);
      assert.ok(found.extension_attributes.shipping_assignments[0].shipping.address.postcode);
      assert.ok(found.discount_amount <= 0);
      assert.ok(!JSON.stringify(found).includes(':null'));
      const page = await get(`/rest/default/V1/orders?${sc({ pageSize: 120 })}`);
      assert.ok(!page.text.includes(':null'), 'Magento leaves null fields out');
    });

    it('seeds deterministically: guest and registered, several stores, currencies, cash on delivery, free and paid shipping', async () => {
      const all = (await get(`/rest/default/V1/orders?${sc({ pageSize: 120 })}`)).json.items;
      const other = await startMagentoSandbox({ orders: 120, seed: 7 });
      try {
        const again = await request(other.url, 'GET', `/rest/default/V1/orders?${sc({ pageSize: 120 })}`, { headers: BEARER });
        assert.deepStrictEqual(again.json.items, all);
      } finally { await other.close(); }
      assert.ok(all.some((o) => o.customer_is_guest === 1) && all.some((o) => o.customer_is_guest === 0));
      assert.ok(new Set(all.map((o) => o.store_id)).size >= 3);
      assert.ok(new Set(all.map((o) => o.order_currency_code)).size >= 2);
      assert.ok(all.some((o) => o.payment.method === 'cashondelivery'));
      assert.ok(all.some((o) => o.shipping_amount === 0) && all.some((o) => o.shipping_amount > 0));
      assert.ok(all.some((o) => o.tax_amount > 0) && all.some((o) => o.discount_amount < 0));
      for (let i = 1; i < all.length; i++) assert.ok(all[i].updated_at > all[i - 1].updated_at && all[i].created_at > all[i - 1].created_at);
    });
  });

  describe('auth', () => {
    const path = '/rest/default/V1/orders/1';

    it('answers 401 with Magento\'s message and the ACL resource to anonymous and unknown tokens', async () => {
      for (const headers of [{}, { Authorization: 'Bearer nope' }, { Authorization: 'Basic abc' }]) {
        const r = await get(path, headers);
        assert.strictEqual(r.status, 401);
        assert.deepStrictEqual(r.json, { message: "The consumer isn't authorized to access %resources.", parameters: { resources: 'Magento_Sales::actions_view' } });
      }
    });

    it('accepts the integration token as Bearer only while "integration as bearer" is on', async () => {
      assert.strictEqual((await get(path)).status, 200);
      s.configure({ integrationAsBearer: false });
      assert.strictEqual((await get(path)).status, 401);
      s.configure({ integrationAsBearer: true });
    });

    it('verifies OAuth 1.0a signatures (HMAC-SHA256 and HMAC-SHA1), query included', async () => {
      const creds = SANDBOX_DEFAULTS.oauth;
      s.configure({ integrationAsBearer: false });
      try {
        for (const signatureMethod of ['HMAC-SHA256', 'HMAC-SHA1']) {
          const p = `/rest/default/V1/orders?${sc({ groups: [[['increment_id', '%0001%', 'like']]], pageSize: 5 })}`;
          const { authorization } = signRequest({ method: 'GET', url: s.url + p, credentials: creds, signatureMethod });
          const r = await get(p, { Authorization: authorization });
          assert.strictEqual(r.status, 200, r.text);
          // Replaying the same nonce is refused.
          const replay = await get(p, { Authorization: authorization });
          assert.strictEqual(replay.status, 401);
          assert.strictEqual(replay.json.message, 'The nonce is already being used by the consumer with ID %1');
        }
        const bad = signRequest({ method: 'GET', url: s.url + path, credentials: { ...creds, consumerSecret: 'wrong' } });
        const r = await get(path, { Authorization: bad.authorization });
        assert.strictEqual(r.status, 401);
        assert.deepStrictEqual(r.json, { message: 'The signature is invalid. Verify and try again.' });
        // A SKU with a slash, signed and sent encoded.
        const skuPath = '/rest/default/V1/products/BAG%2FWAYFARER';
        const ok = await get(skuPath, { Authorization: signRequest({ method: 'GET', url: s.url + skuPath, credentials: creds }).authorization });
        assert.strictEqual(ok.status, 200, ok.text);
        assert.strictEqual(ok.json.sku, 'BAG/WAYFARER');
      } finally { s.configure({ integrationAsBearer: true }); }
    });

    it('issues admin tokens as a JSON string, refuses bad credentials, and stops accepting expired ones', async () => {
      const bad = await post('/rest/default/V1/integration/admin/token', { username: 'admin', password: 'nope' }, {});
      assert.strictEqual(bad.status, 401);
      assert.strictEqual(bad.json.message, 'The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later.');
      const r = await post('/rest/default/V1/integration/admin/token', { username: 'admin', password: 'sandbox123' }, {});
      assert.strictEqual(r.status, 200);
      assert.strictEqual(typeof r.json, 'string');
      const admin = { Authorization: `Bearer ${r.json}` };
      s.configure({ integrationAsBearer: false });
      try {
        assert.strictEqual((await get(path, admin)).status, 200);
        s.configure({ adminTokenTtlSeconds: 0 });
        assert.strictEqual((await get(path, admin)).status, 401);
      } finally { s.configure({ integrationAsBearer: true, adminTokenTtlSeconds: 4 * 3600 }); }
      s.configure({ adminTwoFactorAuth: true });
      const tfa = await post('/rest/default/V1/integration/admin/token', { username: 'admin', password: 'sandbox123' }, {});
      s.configure({ adminTwoFactorAuth: false });
      assert.deepStrictEqual([tfa.status, tfa.json], [401, { message: 'Please use the 2fa provider-specific endpoints to obtain a token.' }]);
    });

    it('records every request with its auth kind and never the token', async () => {
      s.clearRequests();
      await get(path);
      await get(path, {});
      const rec = s.requests();
      assert.deepStrictEqual(rec.map((r) => [r.method, r.path, r.status, r.auth]), [['GET', path, 200, 'integration-bearer'], ['GET', path, 401, 'anonymous']]);
      assert.ok(!JSON.stringify(rec).includes('sandbox-token'));
      const viaRoute = await request(s.url, 'GET', '/__sandbox/requests');
      assert.strictEqual(viaRoute.json.requests.length, 2);
      assert.deepStrictEqual(viaRoute.json.requests[0].query, {});
    });
  });

  describe('state changes', () => {
    async function pendingOrder() {
      const [o] = await s.placeOrders(1);
      return o;
    }

    it('ships in parts, moves qty_shipped, state/status and updated_at, and refuses over-shipping like Magento', async () => {
      const o = await pendingOrder();
      const line = o.items.find((i) => !i.parent_item_id && i.qty_ordered >= 1);
      const before = (await get(`/rest/default/V1/orders/${o.entity_id}`)).json;
      const over = await post(`/rest/default/V1/order/${o.entity_id}/ship`, { items: [{ order_item_id: line.item_id, qty: line.qty_ordered + 1 }] });
      assert.strictEqual(over.status, 400);
      assert.strictEqual(over.json.message, `Shipment Document Validation Error(s):\nWe found an invalid quantity to ship for item "${line.name}".\nYou can't create a shipment without products.`);
      const part = await post(`/rest/default/V1/order/${o.entity_id}/ship`, {
        items: [{ order_item_id: line.item_id, qty: 1 }], notify: true, appendComment: true,
        comment: { comment: 'First parcel', is_visible_on_front: 1 }, tracks: [{ track_number: '1Z999', title: 'UPS', carrier_code: 'ups' }],
      });
      assert.strictEqual(part.status, 200);
      assert.strictEqual(typeof part.json, 'number');
      const after = (await get(`/rest/default/V1/orders/${o.entity_id}`)).json;
      assert.strictEqual(after.items.find((i) => i.item_id === line.item_id).qty_shipped, 1);
      assert.strictEqual(after.state, 'processing');
      assert.ok(after.updated_at >= before.updated_at);
      const ships = await get(`/rest/default/V1/shipments?${sc({ groups: [[['order_id', o.entity_id]]] })}`);
      assert.strictEqual(ships.json.total_count, 1);
      // The comment belongs to the shipment (Magento keeps it there, not in the order's history).
      assert.deepStrictEqual(ships.json.items[0].comments.map((c) => [c.comment, c.is_customer_notified, c.is_visible_on_front]), [['First parcel', 1, 1]]);
      assert.ok(!after.status_histories.some((h) => h.comment === 'First parcel'));
      assert.deepStrictEqual(ships.json.items[0].tracks.map((t) => [t.track_number, t.carrier_code]), [['1Z999', 'ups']]);
      // Ship the rest (no items = everything left), then invoice: complete.
      assert.strictEqual((await post(`/rest/default/V1/order/${o.entity_id}/ship`, {})).status, 200);
      const again = await post(`/rest/default/V1/order/${o.entity_id}/ship`, {});
      assert.strictEqual(again.status, 400);
      assert.strictEqual(again.json.message, 'Shipment Document Validation Error(s):\nThe order does not allow a shipment to be created.');
      const inv = await post(`/rest/default/V1/order/${o.entity_id}/invoice`, { capture: true });
      assert.strictEqual(inv.status, 200);
      const done = (await get(`/rest/default/V1/orders/${o.entity_id}`)).json;
      assert.strictEqual(done.state, 'complete');
      assert.strictEqual(done.status, 'complete');
    });

    it('invoices move total_paid/total_invoiced/qty_invoiced; unknown order is a 404', async () => {
      const o = await pendingOrder();
      const r = await post(`/rest/default/V1/order/${o.entity_id}/invoice`, { capture: true, notify: false });
      assert.strictEqual(r.status, 200);
      const after = (await get(`/rest/default/V1/orders/${o.entity_id}`)).json;
      assert.strictEqual(after.total_invoiced, o.grand_total);
      assert.strictEqual(after.total_paid, o.grand_total);
      for (const it of after.items) assert.strictEqual(it.qty_invoiced, it.qty_ordered);
      const invoices = await get(`/rest/default/V1/invoices?${sc({ groups: [[['order_id', o.entity_id]]] })}`);
      assert.strictEqual(invoices.json.items[0].grand_total, o.grand_total);
      const twice = await post(`/rest/default/V1/order/${o.entity_id}/invoice`, {});
      assert.strictEqual(twice.status, 400);
      const missing = await post('/rest/default/V1/order/999999/invoice', {});
      assert.strictEqual(missing.status, 404);
      assert.strictEqual(missing.json.message, "The entity that was requested doesn't exist. Verify the entity and try again.");
    });

    it('lists every invoice and shipment in entity_id order, seeded ones with their order, new ones after', async () => {
      const orders = (await get(`/rest/default/V1/orders?${sc({ pageSize: 120 })}`)).json.items;
      const invoiced = orders.filter((o) => o.state === 'processing' || o.state === 'complete').map((o) => o.entity_id);
      const [o] = await s.placeOrders(1);
      const invoiceId = (await post(`/rest/default/V1/order/${o.entity_id}/invoice`, {})).json;
      const all = await get(`/rest/default/V1/invoices?${sc({ pageSize: 300 })}`);
      assert.strictEqual(all.json.total_count, invoiced.length + 1);
      assert.deepStrictEqual(all.json.items.map((i) => i.order_id), [...invoiced, o.entity_id]);
      assert.strictEqual(all.json.items[all.json.items.length - 1].entity_id, invoiceId);
      const lastPage = await get(`/rest/default/V1/invoices?${sc({ pageSize: 10, currentPage: 999 })}`);
      assert.strictEqual(lastPage.json.items[lastPage.json.items.length - 1].entity_id, invoiceId);
      const shipped = orders.filter((x) => x.state === 'complete').length;
      assert.strictEqual((await get(`/rest/default/V1/shipments?${sc({ pageSize: 1 })}`)).json.total_count, shipped);
      assert.strictEqual((await get(`/rest/default/V1/invoices/${invoiceId}`)).json.order_id, o.entity_id);
    });

    it('holds, unholds, cancels and comments', async () => {
      const o = await pendingOrder();
      assert.strictEqual((await post(`/rest/default/V1/orders/${o.entity_id}/hold`)).json, true);
      assert.strictEqual((await get(`/rest/default/V1/orders/${o.entity_id}`)).json.status, 'holded');
      const shipHeld = await post(`/rest/default/V1/order/${o.entity_id}/ship`, {});
      assert.strictEqual(shipHeld.json.message, 'Shipment Document Validation Error(s):\nA shipment cannot be created when an order has a status of holded');
      assert.strictEqual((await post(`/rest/default/V1/orders/${o.entity_id}/hold`)).json.message, 'A hold action is not available.');
      assert.strictEqual((await post(`/rest/default/V1/orders/${o.entity_id}/unhold`)).json, true);
      assert.strictEqual((await post(`/rest/default/V1/orders/${o.entity_id}/comments`, { statusHistory: { comment: 'Picked', is_customer_notified: 0, is_visible_on_front: 0 } })).json, true);
      const wrong = await post(`/rest/default/V1/orders/${o.entity_id}/comments`, { statusHistory: { comment: 'x', status: 'complete' } });
      assert.deepStrictEqual([wrong.status, wrong.json], [400, { message: 'Unable to add comment: The status "%1" is not part of the order status history.', parameters: ['complete'] }]);
      assert.strictEqual((await post(`/rest/default/V1/orders/${o.entity_id}/cancel`)).json, true);
      const c = (await get(`/rest/default/V1/orders/${o.entity_id}`)).json;
      assert.strictEqual(c.state, 'canceled');
      assert.strictEqual(c.status_histories.find((h) => h.comment === 'Picked').entity_name, 'order');
      assert.strictEqual((await post(`/rest/default/V1/orders/${o.entity_id}/cancel`)).json, false);
    });

    it('wants JSON bodies with a Content-Type, as Magento\'s REST request does', async () => {
      const ok = await request(s.url, 'POST', '/rest/default/V1/orders/1/comments', { headers: BEARER, raw: '{"statusHistory":{"comment":"x"}}' });
      const empty = await request(s.url, 'POST', '/rest/default/V1/orders/1/comments', { headers: { ...BEARER, 'Content-Type': '' }, raw: '{"statusHistory":{"comment":"x"}}' });
      const xml = await request(s.url, 'POST', '/rest/default/V1/orders/1/comments', { headers: { ...BEARER, 'Content-Type': 'text/plain' }, raw: 'hello' });
      assert.strictEqual(ok.status, 200);
      assert.deepStrictEqual(empty.json, { message: 'Content-Type header is empty.' });
      assert.strictEqual(xml.status, 400);
      assert.deepStrictEqual(xml.json, { message: 'Server cannot understand Content-Type HTTP header media type %1', parameters: ['text/plain'] });
      const broken = await request(s.url, 'POST', '/rest/default/V1/orders/1/comments', { headers: BEARER, raw: '{"statusHistory":' });
      assert.strictEqual(broken.status, 400);
    });

    it('limits list sizes per sync request: Maximum items of type', async () => {
      const items = Array.from({ length: 21 }, (_, i) => ({ sku: '24-MB01', source_code: 'default', quantity: i, status: 1 }));
      const r = await post('/rest/default/V1/inventory/source-items', { sourceItems: items });
      assert.strictEqual(r.status, 400);
      assert.deepStrictEqual(r.json, { message: 'Maximum items of type "%type" is %max', parameters: { type: '\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface', max: 20 } });
    });
  });

  describe('catalogue, stock and prices', () => {
    it('saves MSI source items and reads them back; refuses a batch with an unknown SKU or source as a whole', async () => {
      const ok = await post('/rest/default/V1/inventory/source-items', { sourceItems: [
        { sku: 'YOGA BAG 01', source_code: 'warehouse_east', quantity: 17, status: 1 },
        { sku: '24-MB01', source_code: 'default', quantity: 0, status: 0 },
      ] });
      assert.strictEqual(ok.status, 200);
      assert.deepStrictEqual(ok.json, []);
      assert.deepStrictEqual(s.getSourceItem('YOGA BAG 01', 'warehouse_east'), { sku: 'YOGA BAG 01', source_code: 'warehouse_east', quantity: 17, status: 1 });
      const read = await get(`/rest/default/V1/inventory/source-items?${sc({ groups: [[['sku', 'YOGA BAG 01']], [['source_code', 'warehouse_east']]] })}`);
      assert.deepStrictEqual(read.json.items, [{ sku: 'YOGA BAG 01', source_code: 'warehouse_east', quantity: 17, status: 1 }]);
      const legacy = await get('/rest/default/V1/stockItems/24-MB01');
      assert.strictEqual(legacy.json.qty, 0);
      assert.strictEqual(legacy.json.is_in_stock, false);
      const badSku = await post('/rest/default/V1/inventory/source-items', { sourceItems: [
        { sku: '24-MB02', source_code: 'default', quantity: 99, status: 1 },
        { sku: 'NOPE', source_code: 'default', quantity: 1, status: 1 },
      ] });
      assert.strictEqual(badSku.status, 400);
      assert.strictEqual(badSku.json.message, 'Validation Failed');
      assert.deepStrictEqual(badSku.json.errors[0].parameters, { field: 'sku', value: 'NOPE' });
      assert.notStrictEqual(s.getSourceItem('24-MB02', 'default').quantity, 99);
      const badSource = await post('/rest/default/V1/inventory/source-items', { sourceItems: [{ sku: '24-MB02', source_code: 'mars', quantity: 1, status: 1 }] });
      assert.strictEqual(badSource.status, 400);
      const sources = await get('/rest/default/V1/inventory/sources');
      assert.deepStrictEqual(sources.json.items.map((x) => x.source_code), ['default', 'warehouse_east', 'warehouse_west']);
    });

    it('legacy stock items: PUT /V1/products/{sku}/stockItems/{itemId} writes the default source', async () => {
      const p = (await get('/rest/default/V1/products/BAG%2FWAYFARER')).json;
      const r = await put(`/rest/default/V1/products/BAG%2FWAYFARER/stockItems/${p.extension_attributes.stock_item.item_id}`, { stockItem: { qty: 42, is_in_stock: true } });
      assert.strictEqual(r.status, 200);
      assert.strictEqual(s.getSourceItem('BAG/WAYFARER', 'default').quantity, 42);
      const missing = await get('/rest/default/V1/stockItems/NOPE');
      assert.deepStrictEqual(missing.json, { message: 'The Product with the "%1" SKU doesn\'t exist.', parameters: ['NOPE'] });
    });

    it('price storage answers 200 with the per-item failures and reads back what was written', async () => {
      const r = await post('/rest/default/V1/products/base-prices', { prices: [
        { sku: '24-MB01', price: 12.5, store_id: 0 },
        { sku: 'NOPE', price: 3, store_id: 0 },
        { sku: '24-MB02', price: -1, store_id: 0 },
        { sku: '24-MB03', price: 5, store_id: 99 },
      ] });
      assert.strictEqual(r.status, 200);
      assert.deepStrictEqual(r.json, [
        { message: 'Invalid attribute %fieldName = %fieldValue.', parameters: ['SKU', 'NOPE'] },
        { message: 'Invalid attribute %fieldName = %fieldValue.', parameters: ['Price', -1] },
        { message: 'Requested store is not found. Row ID: SKU = %SKU, Store ID: %storeId.', parameters: ['24-MB03', 99] },
      ]);
      assert.strictEqual(s.getPrice('24-MB01'), 12.5);
      const info = await post('/rest/default/V1/products/base-prices-information', { skus: ['24-MB01', 'NOPE'] });
      assert.deepStrictEqual(info.json, [{ sku: '24-MB01', price: 12.5, store_id: 0 }]);
      const sp = await post('/rest/default/V1/products/special-price', { prices: [{ sku: '24-MB05', price: 9, store_id: 0, price_from: '2026-01-01 00:00:00', price_to: '2026-02-01 00:00:00' }, { sku: '24-MB05', price: 9, store_id: 1, price_from: '2026-01-01 00:00:00', price_to: '2026-02-01 00:00:00' }] });
      assert.strictEqual(sp.json.length, 1);
      assert.match(sp.json[0].message, /^Could not change non global Price when price scope is global/);
      assert.strictEqual(s.getSpecialPrices('24-MB05').length, 1);
      const tp = await post('/rest/default/V1/products/tier-prices', { prices: [{ sku: '24-MB05', price: 8, price_type: 'fixed', website_id: 0, customer_group: 'ALL GROUPS', quantity: 5 }] });
      assert.deepStrictEqual(tp.json, []);
      const tpi = await post('/rest/default/V1/products/tier-prices-information', { skus: ['24-MB05'] });
      assert.deepStrictEqual(tpi.json, [{ sku: '24-MB05', price: 8, price_type: 'fixed', website_id: 0, customer_group: 'ALL GROUPS', quantity: 5 }]);
    });

    it('creates (disabled) and updates products; 404 with Magento\'s wording for a missing one', async () => {
      const c = await post('/rest/all/V1/products', { product: { sku: 'NEW/ONE 1', name: 'New One', price: 10, status: 2, type_id: 'simple', attribute_set_id: 4, extension_attributes: { stock_item: { qty: 3, is_in_stock: true } } } });
      assert.strictEqual(c.status, 200, c.text);
      assert.strictEqual(c.json.status, 2);
      const u = await put('/rest/all/V1/products/NEW%2FONE%201', { product: { status: 1, price: 11 } });
      assert.strictEqual(u.json.status, 1);
      assert.strictEqual(s.getPrice('NEW/ONE 1'), 11);
      assert.strictEqual(s.getSourceItem('NEW/ONE 1', 'default').quantity, 3);
      const storeScoped = await put('/rest/fr/V1/products/NEW%2FONE%201', { product: { name: 'Nouveau' } });
      assert.strictEqual(storeScoped.json.name, 'Nouveau');
      assert.strictEqual((await get('/rest/all/V1/products/NEW%2FONE%201')).json.name, 'New One');
      const missing = await get('/rest/default/V1/products/NOPE');
      assert.strictEqual(missing.status, 404);
      assert.deepStrictEqual(missing.json, { message: "The product that was requested doesn't exist. Verify the product and try again." });
      const disabled = await get(`/rest/default/V1/products?${sc({ groups: [[['status', 2]]] })}`);
      assert.strictEqual(disabled.json.total_count, 0);
      const byAttr = await get(`/rest/default/V1/products?${sc({ groups: [[['color', 'Gray']], [['size', 'M']]] })}`);
      assert.deepStrictEqual(byAttr.json.items.map((p) => p.sku), ['MH01-M-Gray']);
    });

    it('store configs, store views and customers', async () => {
      const cfg = await get('/rest/default/V1/store/storeConfigs');
      assert.deepStrictEqual(cfg.json.map((x) => x.code), ['default', 'fr', 'de']);
      assert.strictEqual(cfg.json[0].base_url, `${s.url}/`);
      const views = await get('/rest/default/V1/store/storeViews');
      assert.strictEqual(views.json[0].code, 'admin');
      assert.strictEqual((await get('/rest/default/V1/customers/1')).json.id, 1);
      assert.deepStrictEqual((await get('/rest/default/V1/customers/9999')).json, { message: 'No such entity with %fieldName = %fieldValue', parameters: { fieldName: 'customerId', fieldValue: 9999 } });
    });
  });

  describe('async bulk', () => {
    it('accepts a bulk with 202 and processes it in the background; stalls while consumers are off', async () => {
      s.setConsumers(false);
      const r = await post('/rest/default/async/bulk/V1/inventory/source-items', [
        { sourceItems: [{ sku: '24-MB06', source_code: 'default', quantity: 61, status: 1 }] },
        { sourceItems: [{ sku: 'NOPE', source_code: 'default', quantity: 1, status: 1 }] },
      ]);
      assert.strictEqual(r.status, 202);
      assert.strictEqual(r.json.errors, false);
      assert.deepStrictEqual(r.json.request_items.map((i) => [i.id, i.status]), [[0, 'accepted'], [1, 'accepted']]);
      const open = await get(`/rest/default/V1/bulk/${r.json.bulk_uuid}/operation-status/4`);
      assert.strictEqual(open.json, 2);
      assert.notStrictEqual(s.getSourceItem('24-MB06', 'default').quantity, 61);
      s.setConsumers(true);
      await s.drainBulk();
      const st = await get(`/rest/default/V1/bulk/${r.json.bulk_uuid}/detailed-status`);
      assert.deepStrictEqual(st.json.operations_list.map((o) => o.status), [1, 3]);
      assert.strictEqual(st.json.operation_count, 2);
      assert.strictEqual(st.json.operations_list[1].result_message, 'Validation Failed');
      assert.strictEqual(s.getSourceItem('24-MB06', 'default').quantity, 61);
      assert.strictEqual((await get('/rest/default/V1/bulk/00000000-0000-0000-0000-000000000000/detailed-status')).status, 404);
    });

    it('rejects a bulk item without its body parameter at once (errors: true), accepts the others', async () => {
      const r = await post('/rest/default/async/bulk/V1/products/base-prices', [{ prices: [{ sku: '24-MB01', price: 5, store_id: 0 }] }, { nope: [] }]);
      assert.strictEqual(r.status, 202);
      assert.strictEqual(r.json.errors, true);
      assert.deepStrictEqual(r.json.request_items.map((i) => i.status), ['accepted', 'rejected']);
      assert.strictEqual(r.json.request_items[1].error_message, '"prices" is required. Enter and try again.');
      await s.drainBulk();
      assert.strictEqual((await get(`/rest/default/V1/bulk/${r.json.bulk_uuid}/operation-status/5`)).json, 1);
      assert.strictEqual(s.getPrice('24-MB01'), 5);
      const single = await post('/rest/default/async/V1/orders/1/comments', { statusHistory: { comment: 'later' } });
      assert.strictEqual(single.status, 202);
      assert.strictEqual(single.json.request_items.length, 1);
      await s.drainBulk();
      assert.strictEqual(s.getOrder(1).status_histories[0].comment, 'later');
    });

    it('reads bySku path parameters from each bulk item', async () => {
      const r = await put('/rest/all/async/bulk/V1/products/bySku', [{ product: { sku: '24-MB07', price: 77 } }]);
      assert.strictEqual(r.status, 202);
      await s.drainBulk();
      assert.strictEqual(s.getPrice('24-MB07'), 77);
    });
  });

  describe('fault injection', () => {
    it('fails exactly the next N matching requests, with Retry-After on 429', async () => {
      const ctl = await request(s.url, 'POST', '/__sandbox/faults', { body: { next: [{ count: 2, fault: 429, route: '/V1/orders', retryAfter: 7 }] } });
      assert.strictEqual(ctl.status, 200);
      assert.strictEqual((await get('/rest/default/V1/store/storeViews')).status, 200);
      const a = await get('/rest/default/V1/orders/1');
      const b = await get('/rest/default/V1/orders/1');
      const c = await get('/rest/default/V1/orders/1');
      assert.deepStrictEqual([a.status, b.status, c.status], [429, 429, 200]);
      assert.strictEqual(a.headers['retry-after'], '7');
      assert.deepStrictEqual(s.requests().filter((r) => r.fault).map((r) => r.fault), ['429', '429']);
    });

    it('answers 502/503 like the proxy in front of Magento and 500 like Magento', async () => {
      s.setFaults({ next: [{ count: 1, fault: 503 }, { count: 1, fault: 502 }, { count: 1, fault: 500 }] });
      const x = await get('/rest/default/V1/orders/1');
      const y = await get('/rest/default/V1/orders/1');
      const z = await get('/rest/default/V1/orders/1');
      assert.deepStrictEqual([x.status, y.status, z.status], [503, 502, 500]);
      assert.match(x.headers['content-type'], /text\/html/);
      assert.ok(x.headers['retry-after']);
      assert.strictEqual(z.json.message, 'Internal Error. Details are available in Magento log file. Report ID: %1');
    });

    it('resets connections and hangs requests on demand; {} clears everything', async () => {
      s.setFaults({ next: [{ count: 1, fault: 'reset' }] });
      await assert.rejects(get('/rest/default/V1/orders/1'), (e) => ['ECONNRESET', 'EPIPE'].includes(e.code) || /socket hang up/.test(e.message));
      s.setFaults({ next: [{ count: 1, fault: 'hang' }] });
      let settled = false;
      const hung = get('/rest/default/V1/orders/1').then(() => { settled = true; }, () => { settled = true; });
      await until(() => s.requests().some((r) => r.fault === 'hang'), 'the hang to be recorded');
      assert.strictEqual(settled, false);
      const ctl = await request(s.url, 'POST', '/__sandbox/faults', { body: {} });
      assert.deepStrictEqual(ctl.json, {});
      assert.strictEqual((await get('/rest/default/V1/orders/1')).status, 200);
      // Closing the sandbox ends the hung request.
      const other = s; s = await startMagentoSandbox({ orders: 120, seed: 7 });
      await other.close();
      await hung;
      assert.strictEqual(settled, true);
    });

    it('draws random faults deterministically from the fault seed', async () => {
      const run = async () => {
        s.setFaults({ rate500: 0.5, seed: 3 });
        const out = [];
        for (let i = 0; i < 12; i++) out.push((await get('/rest/default/V1/orders/1')).status);
        s.setFaults({});
        return out;
      };
      const a = await run();
      const b = await run();
      assert.deepStrictEqual(a, b);
      assert.ok(a.includes(500) && a.includes(200));
    });

    it('adds latency', async () => {
      s.setFaults({ latencyMs: 30 });
      await get('/rest/default/V1/orders/1');
      s.setFaults({});
      const last = s.requests().pop();
      assert.ok(last.durationMs >= 25, `durationMs ${last.durationMs}`);
    });

    it('refuses a malformed fault config with a clear message', async () => {
      const r = await request(s.url, 'POST', '/__sandbox/faults', { body: { rate500: 2 } });
      assert.strictEqual(r.status, 400);
      assert.match(r.json.message, /rate500/);
    });
  });

  describe('webhooks', () => {
    let receiver;
    let received;
    before(async () => {
      received = [];
      receiver = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => { received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') }); res.writeHead(200); res.end('ok'); });
      });
      await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
    });
    after(() => new Promise((r) => receiver.close(r)));
    beforeEach(() => { received.length = 0; });

    it('sends order.placed signed with hex HMAC-SHA256 of the raw body, with timestamp, event and idempotency headers', async () => {
      s.configure({ webhookUrl: `http://127.0.0.1:${receiver.address().port}/hook`, webhookSecret: 'whsec-test' });
      const r = await request(s.url, 'POST', '/__sandbox/orders', { body: { count: 2, webhook: true } });
      assert.strictEqual(r.status, 200);
      assert.strictEqual(received.length, 2);
      for (const [i, d] of received.entries()) {
        const expected = crypto.createHmac('sha256', 'whsec-test').update(d.raw).digest('hex');
        assert.strictEqual(d.headers['x-magento-signature'], expected);
        assert.strictEqual(d.headers['x-magento-event'], 'order.placed');
        assert.match(d.headers['x-magento-timestamp'], /^\d{10}$/);
        assert.ok(d.headers['x-magento-idempotency-key']);
        const body = JSON.parse(d.raw);
        assert.strictEqual(body.event, 'order.placed');
        assert.strictEqual(body.order_id, r.json.orders[i].entity_id);
        assert.strictEqual(body.increment_id, r.json.orders[i].increment_id);
      }
    });

    it('signs timestamp + "." + body when asked, and delivers duplicates and out-of-order on demand', async () => {
      s.configure({ webhookUrl: `http://127.0.0.1:${receiver.address().port}/hook`, webhookSecret: 'whsec-test', webhookSignTimestamp: true });
      const placed = await s.placeOrders(2, { webhook: true, duplicate: true, outOfOrder: true });
      assert.strictEqual(received.length, 4);
      const d = received[0];
      assert.strictEqual(d.headers['x-magento-signature'], crypto.createHmac('sha256', 'whsec-test').update(`${d.headers['x-magento-timestamp']}.${d.raw}`).digest('hex'));
      assert.deepStrictEqual(received.map((x) => JSON.parse(x.raw).order_id), [placed[1].entity_id, placed[1].entity_id, placed[0].entity_id, placed[0].entity_id]);
      assert.strictEqual(received[0].headers['x-magento-idempotency-key'], received[1].headers['x-magento-idempotency-key']);
      assert.notStrictEqual(received[0].headers['x-magento-idempotency-key'], received[2].headers['x-magento-idempotency-key']);
    });

    it('announces order changes made through the REST API', async () => {
      s.configure({ webhookUrl: `http://127.0.0.1:${receiver.address().port}/hook`, webhookSecret: 'whsec-test', webhookSignTimestamp: false });
      const [o] = await s.placeOrders(1);
      await post(`/rest/default/V1/order/${o.entity_id}/invoice`, { capture: true });
      await until(() => received.length === 1, 'the order.invoiced webhook');
      assert.strictEqual(received[0].headers['x-magento-event'], 'order.invoiced');
      assert.strictEqual(JSON.parse(received[0].raw).status, 'processing');
    });
  });

  describe('placing orders while running', () => {
    it('new orders carry later timestamps, so an updated_at cursor sees them and changed seeded orders', async () => {
      const lastSeeded = (await get('/rest/default/V1/orders/120')).json;
      const [o] = await s.placeOrders(1);
      assert.strictEqual(o.entity_id, 121);
      await post('/rest/default/V1/orders/5/comments', { statusHistory: { comment: 'Called the customer' } });
      const r = await get(`/rest/default/V1/orders?${sc({ groups: [[['updated_at', lastSeeded.updated_at, 'gt']]], sort: [['updated_at', 'ASC'], ['entity_id', 'ASC']], pageSize: 10 })}`);
      // Both changed in the same second: ties fall back to the second sort order.
      assert.deepStrictEqual(r.json.items.map((x) => x.entity_id), [5, 121]);
      // The changed order is no longer where it was in updated_at order.
      const all = await get(`/rest/default/V1/orders?${sc({ sort: [['updated_at', 'ASC']], pageSize: 300 })}`);
      const ids = all.json.items.map((x) => x.entity_id);
      assert.strictEqual(all.json.total_count, 121);
      assert.deepStrictEqual(ids.slice(-2).sort((a, b) => a - b), [5, 121]);
      assert.strictEqual(new Set(ids).size, 121);
    });
  });
});

describe('Magento sandbox with 100 000 orders', function () {
  let s;
  before(async () => { s = await startMagentoSandbox({ orders: 100000, seed: 1 }); });
  after(async () => { await s.close(); });

  it('serves pages from index ranges without holding the orders', async () => {
    if (global.gc) global.gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const h = BEARER;
    const last = await request(s.url, 'GET', `/rest/default/V1/orders?${sc({ pageSize: 300, currentPage: 100000 })}`, { headers: h });
    assert.strictEqual(last.json.total_count, 100000);
    assert.strictEqual(last.json.items.length, 100);
    assert.strictEqual(last.json.items[99].entity_id, 100000);
    const mid = await request(s.url, 'GET', `/rest/default/V1/orders?${sc({ groups: [[['entity_id', 50000, 'gt']]], sort: [['updated_at', 'DESC']], pageSize: 300, currentPage: 2 })}`, { headers: h });
    assert.strictEqual(mid.json.total_count, 50000);
    assert.strictEqual(mid.json.items[0].entity_id, 100000 - 300);
    await request(s.url, 'POST', '/rest/default/V1/orders/77777/comments', { headers: h, body: { statusHistory: { comment: 'Checked' } } });
    const cursor = (await request(s.url, 'GET', '/rest/default/V1/orders/99999', { headers: h })).json.updated_at;
    const after = await request(s.url, 'GET', `/rest/default/V1/orders?${sc({ groups: [[['updated_at', cursor, 'gt']]], sort: [['updated_at', 'ASC']], pageSize: 10 })}`, { headers: h });
    assert.deepStrictEqual(after.json.items.map((o) => o.entity_id), [100000, 77777]);
    assert.strictEqual(s.changedOrders(), 1);
    if (global.gc) global.gc();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(grown < 150 * 1024 * 1024, `heap grew by ${Math.round(grown / 1048576)} MB`);
  });
});
