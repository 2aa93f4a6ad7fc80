'use strict';
/**
 * Shipment and invoice comments as Magento 2.4 keeps them: ShipOrder / InvoiceOrder store the `comment`
 * whenever one is given (Shipment/InvoiceDocumentFactory::create → addComment); `appendComment` (with
 * `notify`) only puts it into the customer's e-mail (`is_customer_notified`). Comments are read with
 * `GET /V1/shipment/{id}/comments`, `/V1/invoices/{id}/comments`, `/V1/orders/{id}/comments`.
 */
const assert = require('assert');
const { startMagentoSandbox } = require('../../dist/sandbox/magento');
const { request } = require('./magento-helpers');

const BEARER = { Authorization: 'Bearer sandbox-token' };
const NOT_FOUND = { message: "The entity that was requested doesn't exist. Verify the entity and try again." };

describe('Magento sandbox shipment, invoice and order comments', function () {
  let s;
  const get = (path) => request(s.url, 'GET', path, { headers: BEARER });
  const post = (path, body) => request(s.url, 'POST', path, { headers: BEARER, body });
  const newOrder = async () => (await s.placeOrders(1))[0];
  const filterOn = (id) => ({ filter_groups: [{ filters: [{ field: 'parent_id', value: String(id), condition_type: 'eq' }] }] });

  before(async () => { s = await startMagentoSandbox({ orders: 60, seed: 9 }); });
  after(async () => { await s.close(); });
  beforeEach(() => s.reset());

  it('keeps a shipment comment sent without appendComment, not notified, off the order history', async () => {
    const o = await newOrder();
    const r = await post(`/rest/default/V1/order/${o.entity_id}/ship`, { comment: { comment: 'Left the East warehouse', is_visible_on_front: 1 } });
    assert.strictEqual(r.status, 200, r.text);
    const id = r.json;
    const list = await get(`/rest/default/V1/shipment/${id}/comments`);
    assert.strictEqual(list.status, 200);
    assert.strictEqual(list.json.total_count, 1);
    assert.deepStrictEqual(list.json.search_criteria, filterOn(id));
    const [c] = list.json.items;
    assert.deepStrictEqual(Object.keys(c).sort(), ['comment', 'created_at', 'entity_id', 'is_customer_notified', 'is_visible_on_front', 'parent_id']);
    assert.deepStrictEqual({ comment: c.comment, is_customer_notified: c.is_customer_notified, is_visible_on_front: c.is_visible_on_front, parent_id: c.parent_id },
      { comment: 'Left the East warehouse', is_customer_notified: 0, is_visible_on_front: 1, parent_id: id });
    assert.match(c.created_at, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const shipment = (await get(`/rest/default/V1/shipment/${id}`)).json;
    assert.deepStrictEqual(shipment.comments, list.json.items);
    assert.ok(!('customer_note' in shipment));
    assert.ok(!s.getOrder(o.entity_id).status_histories.some((h) => h.comment === 'Left the East warehouse'), 'a shipment comment is not an order comment');
  });

  it('marks the comment notified and the customer note only with appendComment and notify', async () => {
    const a = await newOrder();
    const notified = (await post(`/rest/default/V1/order/${a.entity_id}/ship`, { notify: true, appendComment: true, comment: { comment: 'On its way', isVisibleOnFront: 0 } })).json;
    const doc = (await get(`/rest/default/V1/shipment/${notified}`)).json;
    assert.deepStrictEqual(doc.comments.map((c) => [c.comment, c.is_customer_notified, c.is_visible_on_front]), [['On its way', 1, 0]]);
    assert.strictEqual(doc.customer_note, 'On its way');
    assert.strictEqual(doc.customer_note_notify, 1);
    assert.strictEqual(doc.email_sent, 1);
    const b = await newOrder();
    const quiet = (await post(`/rest/default/V1/order/${b.entity_id}/ship`, { notify: false, appendComment: true, comment: { comment: 'Kept quiet' } })).json;
    const quietDoc = (await get(`/rest/default/V1/shipment/${quiet}`)).json;
    assert.deepStrictEqual(quietDoc.comments.map((c) => [c.comment, c.is_customer_notified]), [['Kept quiet', 0]]);
    assert.ok(!('customer_note' in quietDoc));
  });

  it('keeps an invoice comment sent without appendComment and lists it', async () => {
    const o = await newOrder();
    const r = await post(`/rest/default/V1/order/${o.entity_id}/invoice`, { capture: true, comment: { comment: '[ERP shipment SHP-7]', is_visible_on_front: 0 } });
    assert.strictEqual(r.status, 200, r.text);
    const id = r.json;
    const list = await get(`/rest/default/V1/invoices/${id}/comments`);
    assert.strictEqual(list.status, 200);
    assert.deepStrictEqual(list.json.search_criteria, filterOn(id));
    assert.deepStrictEqual(list.json.items.map((c) => [c.comment, c.is_customer_notified, c.parent_id]), [['[ERP shipment SHP-7]', 0, id]]);
    assert.strictEqual(list.json.total_count, 1);
    const invoice = (await get(`/rest/default/V1/invoices/${id}`)).json;
    assert.deepStrictEqual(invoice.comments, list.json.items);
    const history = s.getOrder(o.entity_id).status_histories;
    assert.ok(!history.some((h) => h.comment === '[ERP shipment SHP-7]'), 'an invoice comment is not an order comment');
    const withNotice = await newOrder();
    const n = (await post(`/rest/default/V1/order/${withNotice.entity_id}/invoice`, { notify: true, appendComment: true, comment: { comment: 'Thanks' } })).json;
    assert.deepStrictEqual((await get(`/rest/default/V1/invoices/${n}/comments`)).json.items.map((c) => [c.comment, c.is_customer_notified]), [['Thanks', 1]]);
  });

  it('answers an empty list for a document without comments or an unknown id (getCommentsList checks no id)', async () => {
    const o = await newOrder();
    const shipmentId = (await post(`/rest/default/V1/order/${o.entity_id}/ship`, {})).json;
    assert.deepStrictEqual((await get(`/rest/default/V1/shipment/${shipmentId}/comments`)).json, { items: [], search_criteria: filterOn(shipmentId), total_count: 0 });
    for (const path of ['/shipment/987654/comments', '/invoices/987654/comments', '/orders/987654/comments']) {
      const r = await get(`/rest/default/V1${path}`);
      assert.strictEqual(r.status, 200, path);
      assert.deepStrictEqual(r.json, { items: [], search_criteria: filterOn(987654), total_count: 0 });
    }
    assert.strictEqual((await get('/rest/default/V1/shipment/abc/comments')).status, 400);
  });

  it('lists order comments oldest first with the parent_id filter echoed', async () => {
    const o = await newOrder();
    await post(`/rest/default/V1/orders/${o.entity_id}/comments`, { statusHistory: { comment: 'first', is_customer_notified: 0, is_visible_on_front: 0 } });
    await post(`/rest/default/V1/orders/${o.entity_id}/comments`, { statusHistory: { comment: 'second', is_customer_notified: 1, is_visible_on_front: 1 } });
    const r = await get(`/rest/default/V1/orders/${o.entity_id}/comments`);
    assert.strictEqual(r.status, 200);
    assert.deepStrictEqual(r.json.search_criteria, filterOn(o.entity_id));
    assert.deepStrictEqual(r.json.items.map((h) => h.comment), ['first', 'second']);
    assert.deepStrictEqual(r.json.items[1], { ...r.json.items[1], entity_name: 'order', is_customer_notified: 1, is_visible_on_front: 1, parent_id: o.entity_id, status: 'pending' });
    assert.strictEqual(r.json.total_count, 2);
    // The order itself shows its history newest first, as Magento's order view does.
    assert.deepStrictEqual((await get(`/rest/default/V1/orders/${o.entity_id}`)).json.status_histories.map((h) => h.comment), ['second', 'first']);
  });

  it('serves GET /V1/shipment/{id} and /V1/invoices/{id} for seeded and new documents; unknown ids are 404', async () => {
    const orders = Array.from({ length: s.seededOrders }, (_, i) => s.getOrder(i + 1));
    const complete = orders.find((o) => o.state === 'complete');
    const shipment = await get(`/rest/default/V1/shipment/${complete.entity_id}`);
    assert.strictEqual(shipment.status, 200);
    assert.strictEqual(shipment.json.order_id, complete.entity_id);
    assert.deepStrictEqual(shipment.json.comments, []);
    const invoice = await get(`/rest/default/V1/invoices/${complete.entity_id}`);
    assert.strictEqual(invoice.status, 200);
    assert.strictEqual(invoice.json.grand_total, complete.grand_total);
    for (const path of ['/shipment/987654', '/invoices/987654']) {
      const r = await get(`/rest/default/V1${path}`);
      assert.strictEqual(r.status, 404, path);
      assert.deepStrictEqual(r.json, NOT_FOUND);
    }
  });
});
