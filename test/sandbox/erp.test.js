'use strict';
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');

const { startDemoErp } = require('../../dist/sandbox/erp/index.js');
const { validateSchema } = require('../../dist/lib/schemas.js');
// A canonical order as map-order produces it (every field erp-order.schema.json requires).
const { order } = require('../erp/support');

const SCHEMAS = path.resolve(__dirname, '../../schemas');
const ORDER_SCHEMA = path.join(SCHEMAS, 'erp-order.schema.json');

/** Asserts `data` is valid against schemas/<name>.schema.json, listing the problems otherwise. */
function assertSchema(name, data) {
  const result = validateSchema(name, data);
  assert.ok(result.valid, `not a valid ${name}: ${JSON.stringify(result.problems)}`);
}

async function call(base, method, route, { body, headers = {}, signal } = {}) {
  const res = await fetch(base + route, {
    method,
    signal,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}


/** A stand-in for the integration's HTTP-in endpoints: records what the ERP posts. */
function startReceiver() {
  return new Promise((resolve) => {
    const received = [];
    let answerStatus = 202;
    const server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        received.push({ method: req.method, path: req.url, headers: req.headers, body: JSON.parse(text) });
        res.writeHead(answerStatus, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ accepted: true }));
      });
    });
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        received,
        answer(status) { answerStatus = status; },
        close: () => new Promise((r) => server.close(r)),
      });
    });
  });
}

describe('demo ERP', function () {
  let erp;

  before(function () {
    assert.ok(
      fs.existsSync(ORDER_SCHEMA),
      `schemas/erp-order.schema.json is missing: the demo ERP validates orders against it (written by the map-order work)`,
    );
    assertSchema('erp-order', order('100000001'));
  });

  beforeEach(async function () {
    erp = await startDemoErp({ port: 0, host: '127.0.0.1', seed: 42 });
  });
  afterEach(async function () {
    await erp.close();
  });

  describe('POST /orders', function () {
    it('creates the order once and answers the same key with the first answer', async function () {
      const first = await call(erp.url, 'POST', '/orders', { body: order('100000001'), headers: { 'idempotency-key': 'k-1' } });
      assert.strictEqual(first.status, 201);
      assert.deepStrictEqual(Object.keys(first.body).sort(), ['erp_order_id', 'order_number', 'status']);
      assert.strictEqual(first.body.order_number, '100000001');
      assert.strictEqual(first.body.status, 'received');

      const again = await call(erp.url, 'POST', '/orders', { body: order('100000001'), headers: { 'idempotency-key': 'k-1' } });
      assert.strictEqual(again.status, 201);
      assert.deepStrictEqual(again.body, first.body);
      assert.strictEqual(again.headers.get('idempotent-replayed'), 'true');
      assert.strictEqual(erp.state.orders.size, 1);

      const list = await call(erp.url, 'GET', '/orders');
      assert.strictEqual(list.body.total_count, 1);
      assert.strictEqual(list.body.items[0].erp_order_id, first.body.erp_order_id);
    });

    it('answers concurrent posts with one key with one order', async function () {
      await erp.setFaults({ latencyMs: 20 });
      const answers = await Promise.all(
        [1, 2, 3, 4].map(() => call(erp.url, 'POST', '/orders', { body: order('100000009'), headers: { 'idempotency-key': 'same' } })),
      );
      assert.strictEqual(erp.state.orders.size, 1);
      for (const a of answers) {
        assert.strictEqual(a.status, 201);
        assert.deepStrictEqual(a.body, answers[0].body);
      }
    });

    it('refuses a post without Idempotency-Key with 400 and creates nothing', async function () {
      const res = await call(erp.url, 'POST', '/orders', { body: order('100000002') });
      assert.strictEqual(res.status, 400);
      assert.match(res.body.message, /Idempotency-Key/);
      assert.strictEqual(erp.state.orders.size, 0);
    });

    it('answers 409 naming the existing ERP order for the same order under another key', async function () {
      const first = await call(erp.url, 'POST', '/orders', { body: order('100000003'), headers: { 'idempotency-key': 'a' } });
      const other = await call(erp.url, 'POST', '/orders', { body: order('100000003'), headers: { 'idempotency-key': 'b' } });
      assert.strictEqual(other.status, 409);
      assert.strictEqual(other.body.erp_order_id, first.body.erp_order_id);
      assert.match(other.body.message, new RegExp(first.body.erp_order_id));
      assert.strictEqual(erp.state.orders.size, 1);
    });

    it('answers 422 when a key is reused for another order', async function () {
      await call(erp.url, 'POST', '/orders', { body: order('100000004'), headers: { 'idempotency-key': 'k' } });
      const res = await call(erp.url, 'POST', '/orders', { body: order('100000005'), headers: { 'idempotency-key': 'k' } });
      assert.strictEqual(res.status, 422);
      assert.match(res.body.message, /100000004/);
      assert.strictEqual(erp.state.orders.size, 1);
    });

    it('answers 400 with every schema reason for an invalid order, and does not burn the key', async function () {
      const bad = order('100000006');
      delete bad.customer;
      bad.items[0].qty = 0;
      bad.currency = 'euro';
      const res = await call(erp.url, 'POST', '/orders', { body: bad, headers: { 'idempotency-key': 'x' } });
      assert.strictEqual(res.status, 400);
      assert.match(res.body.message, /erp-order\.schema\.json/);
      const reasons = res.body.errors.map((e) => `${e.field} ${e.reason}`);
      assert.ok(reasons.includes('/customer is required'), reasons.join('; '));
      assert.ok(reasons.some((r) => r.startsWith('/items/0/qty')), reasons.join('; '));
      assert.ok(reasons.some((r) => r.startsWith('/currency')), reasons.join('; '));
      assert.strictEqual(erp.state.orders.size, 0);

      const fixed = await call(erp.url, 'POST', '/orders', { body: order('100000006'), headers: { 'idempotency-key': 'x' } });
      assert.strictEqual(fixed.status, 201);
    });

    it('answers 400 for a body that is not JSON', async function () {
      const res = await call(erp.url, 'POST', '/orders', { body: '{"order_number":', headers: { 'idempotency-key': 'j' } });
      assert.strictEqual(res.status, 400);
      assert.match(res.body.message, /not valid JSON/);
    });

    it('answers 500 with a clear message when the schema file is missing', async function () {
      const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-schema-'));
      const other = await startDemoErp({ port: 0, schemaDir: empty });
      try {
        const res = await call(other.url, 'POST', '/orders', { body: order('100000007'), headers: { 'idempotency-key': 'm' } });
        assert.strictEqual(res.status, 500);
        assert.match(res.body.message, /erp-order\.schema\.json does not exist/);
        assert.strictEqual(other.state.orders.size, 0);
      } finally {
        await other.close();
        fs.rmSync(empty, { recursive: true, force: true });
      }
    });

    it('fails the next N posts on demand, then recovers', async function () {
      const faults = await call(erp.url, 'POST', '/__erp/faults', { body: { failNextOrders: 2, status: 503, retryAfterSeconds: 1 } });
      assert.strictEqual(faults.status, 200);
      const post = () => call(erp.url, 'POST', '/orders', { body: order('100000008'), headers: { 'idempotency-key': 'f' } });
      const a = await post();
      const b = await post();
      const c = await post();
      assert.deepStrictEqual([a.status, b.status, c.status], [503, 503, 201]);
      assert.strictEqual(a.headers.get('retry-after'), '1');
      assert.strictEqual(erp.state.orders.size, 1);
      assert.deepStrictEqual(erp.requests.filter((r) => r.path === '/orders').map((r) => !!r.fault), [true, true, false]);

      const bad = await call(erp.url, 'POST', '/__erp/faults', { body: { status: 200 } });
      assert.strictEqual(bad.status, 400);
      assert.match(bad.body.message, /^status:/);
      const cleared = await call(erp.url, 'POST', '/__erp/faults', { body: {} });
      assert.deepStrictEqual(cleared.body, { failNextOrders: 0, status: 503, latencyMs: 0 });
    });
    it('lists a request held by the latency fault as open; a client that hangs up meanwhile books nothing', async function () {
      erp.setFaults({ latencyMs: 60000 });
      const controller = new AbortController();
      const posting = call(erp.url, 'POST', '/orders', { body: order('100000011'), headers: { 'idempotency-key': 'h' }, signal: controller.signal })
        .then(() => 'answered', (err) => err.name);
      for (let i = 0; i < 400 && !erp.openRequests().some((r) => r.orderNumber === '100000011'); i++) await new Promise((r) => setTimeout(r, 10));
      const open = erp.openRequests().find((r) => r.orderNumber === '100000011');
      assert.ok(open, 'the held request is listed as open, with its order number');
      assert.strictEqual(open.idempotencyKey, 'h');
      controller.abort();
      assert.strictEqual(await posting, 'AbortError');
      for (let i = 0; i < 400 && erp.openRequests().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
      erp.setFaults({});
      const record = erp.requests.find((r) => r.orderNumber === '100000011');
      assert.ok(record && record.abandoned, 'recorded as abandoned');
      assert.strictEqual(record.status, 499);
      assert.ok(!erp.state.ordersByNumber.has('100000011'), 'nothing booked');
    });
  });

  describe('bearer token', function () {
    it('requires the token on API routes and never records it', async function () {
      const secured = await startDemoErp({ port: 0, token: 'erp-demo-token-1' });
      try {
        const without = await call(secured.url, 'POST', '/orders', { body: order('100000010'), headers: { 'idempotency-key': 't' } });
        assert.strictEqual(without.status, 401);
        const wrong = await call(secured.url, 'GET', '/stock', { headers: { authorization: 'Bearer nope' } });
        assert.strictEqual(wrong.status, 401);
        const ok = await call(secured.url, 'POST', '/orders', {
          body: order('100000010'),
          headers: { 'idempotency-key': 't', authorization: 'Bearer erp-demo-token-1' },
        });
        assert.strictEqual(ok.status, 201);
        const recorded = await call(secured.url, 'GET', '/__erp/requests');
        assert.strictEqual(recorded.body.length, 3);
        assert.ok(!JSON.stringify(recorded.body).includes('erp-demo-token-1'));
        assert.deepStrictEqual(recorded.body.map((r) => r.status), [401, 401, 201]);
      } finally {
        await secured.close();
      }
    });
  });

  describe('readable state', function () {
    it('lists stock per SKU and source, prices, products, orders and one order', async function () {
      const stock = await call(erp.url, 'GET', '/stock');
      assert.strictEqual(stock.status, 200);
      assert.ok(stock.body.total_count >= 10);
      for (const s of stock.body.items) {
        assert.strictEqual(typeof s.sku, 'string');
        assert.strictEqual(s.source, 'default');
        assert.ok(Number.isInteger(s.qty) && s.qty >= 0);
      }
      const one = await call(erp.url, 'GET', '/stock?sku=' + encodeURIComponent('WT09/XS/Purple'));
      assert.strictEqual(one.body.total_count, 1);
      assert.strictEqual(one.body.items[0].sku, 'WT09/XS/Purple');

      const prices = await call(erp.url, 'GET', '/prices?sku=24-MB01');
      assert.deepStrictEqual(prices.body.items.map((p) => [p.sku, p.price]), [['24-MB01', 34]]);
      const products = await call(erp.url, 'GET', '/products');
      assert.ok(products.body.items.some((p) => p.sku === 'YOGA MAT 183' && p.origin === 'catalog'));

      const created = await call(erp.url, 'POST', '/orders', { body: order('100000011'), headers: { 'idempotency-key': 'r' } });
      const byId = await call(erp.url, 'GET', `/orders/${created.body.erp_order_id}`);
      assert.strictEqual(byId.status, 200);
      assert.strictEqual(byId.body.order.order_number, '100000011');
      assert.deepStrictEqual(byId.body.lines, [{ sku: '24-MB01', qty: 2 }]);
      const byNumber = await call(erp.url, 'GET', '/orders/100000011');
      assert.strictEqual(byNumber.body.erp_order_id, created.body.erp_order_id);
      const missing = await call(erp.url, 'GET', '/orders/ERP-999999');
      assert.strictEqual(missing.status, 404);

      await call(erp.url, 'POST', '/orders', { body: order('100000013'), headers: { 'idempotency-key': 'r2' } });
      const window = await call(erp.url, 'GET', '/orders?offset=1&limit=5');
      assert.deepStrictEqual(window.body.items.map((o) => o.order_number), ['100000013']);
      assert.strictEqual(window.body.total_count, 2);
      const bad = await call(erp.url, 'GET', '/orders?limit=-1');
      assert.strictEqual(bad.status, 400);
      assert.match(bad.body.message, /^limit:/);
    });

    it('starts from a catalogue it is given, with its sources', async function () {
      const given = await startDemoErp({
        port: 0,
        catalog: [{ sku: 'A 1', name: 'A', price: 3.5, stock: { eu: 4, us: 9 } }],
      });
      try {
        const stock = await call(given.url, 'GET', '/stock');
        assert.deepStrictEqual(stock.body.items.map((s) => [s.sku, s.source, s.qty]), [['A 1', 'eu', 4], ['A 1', 'us', 9]]);
        assert.deepStrictEqual(given.state.sources, ['eu', 'us']);
      } finally {
        await given.close();
      }
    });

    it('reset forgets orders, answers and faults and restores the opening stock', async function () {
      const before = (await call(erp.url, 'GET', '/stock')).body;
      await call(erp.url, 'POST', '/orders', { body: order('100000012'), headers: { 'idempotency-key': 'z' } });
      await call(erp.url, 'POST', '/__erp/faults', { body: { failNextOrders: 5 } });
      const reset = await call(erp.url, 'POST', '/__erp/reset');
      assert.strictEqual(reset.status, 200);
      assert.strictEqual(erp.state.orders.size, 0);
      assert.strictEqual(erp.faults.failNextOrders, 0);
      const after = (await call(erp.url, 'GET', '/stock')).body;
      assert.deepStrictEqual(after.items.map((s) => [s.sku, s.qty]), before.items.map((s) => [s.sku, s.qty]));
      const again = await call(erp.url, 'POST', '/orders', { body: order('100000012'), headers: { 'idempotency-key': 'z' } });
      assert.strictEqual(again.status, 201);
      assert.strictEqual(again.headers.get('idempotent-replayed'), null);
    });
  });

  describe('emitting toward the integration', function () {
    let receiver;
    beforeEach(async function () {
      receiver = await startReceiver();
      erp.setIntegrationUrl(receiver.url);
    });
    afterEach(async function () {
      await receiver.close();
    });

    it('refuses to emit without an integration URL', async function () {
      erp.setIntegrationUrl(undefined);
      const res = await call(erp.url, 'POST', '/__erp/emit/stock', { body: { count: 1 } });
      assert.strictEqual(res.status, 409);
      assert.match(res.body.message, /integration URL/);
    });

    it('emits generated stock levels valid for /erp/stock and books them', async function () {
      const res = await call(erp.url, 'POST', '/__erp/emit/stock', { body: { count: 3 } });
      assert.strictEqual(res.status, 200);
      assert.strictEqual(receiver.received.length, 1);
      const got = receiver.received[0];
      assert.strictEqual(got.path, '/erp/stock');
      assertSchema('erp-stock', got.body);
      assert.strictEqual(got.body.items.length, 3);
      for (const item of got.body.items) {
        const booked = erp.state.stockList(item.sku).find((s) => s.source === item.source);
        assert.strictEqual(booked.qty, item.qty);
      }
      assert.strictEqual(res.body.deliveries[0].status, 202);
      assert.deepStrictEqual(erp.deliveries.map((d) => d.kind), ['stock']);
    });

    it('generates the same changes for the same seed', async function () {
      const twin = await startDemoErp({ port: 0, seed: 42, integrationUrl: receiver.url });
      try {
        await erp.emit('stock', { count: 4 });
        await twin.emit('stock', { count: 4 });
        await erp.emit('prices', { count: 2 });
        await twin.emit('prices', { count: 2 });
        assert.deepStrictEqual(receiver.received[1].body, receiver.received[0].body);
        assert.deepStrictEqual(receiver.received[3].body, receiver.received[2].body);
      } finally {
        await twin.close();
      }
    });

    it('emits explicit prices and rejects bad ones with the field named', async function () {
      const res = await call(erp.url, 'POST', '/__erp/emit/prices', { body: { items: [{ sku: '24-MB01', price: 29.99, store_id: 1 }] } });
      assert.strictEqual(res.status, 200);
      assert.deepStrictEqual(receiver.received[0].body, { items: [{ sku: '24-MB01', price: 29.99, store_id: 1 }] });
      assertSchema('erp-prices', receiver.received[0].body);
      assert.strictEqual(erp.state.priceList('24-MB01').find((p) => p.store_id === 1).price, 29.99);

      const bad = await call(erp.url, 'POST', '/__erp/emit/prices', { body: { items: [{ sku: '24-MB01', price: 'cheap' }] } });
      assert.strictEqual(bad.status, 400);
      assert.strictEqual(bad.body.field, 'items[0].price');
      assert.strictEqual(receiver.received.length, 1);
    });

    it('emits new products valid for /erp/products and adds them to its catalogue', async function () {
      const res = await call(erp.url, 'POST', '/__erp/emit/products', { body: { count: 2 } });
      assert.strictEqual(res.status, 200);
      const body = receiver.received[0].body;
      assertSchema('erp-products', body);
      assert.deepStrictEqual(body.items.map((p) => p.sku), ['ERP-42-0001', 'ERP-42-0002']);
      const products = await call(erp.url, 'GET', '/products?sku=ERP-42-0002');
      assert.strictEqual(products.body.items[0].origin, 'erp');
      assert.strictEqual(erp.state.stockList('ERP-42-0002')[0].qty, body.items[1].qty);
    });

    it('ships a received order in part deliveries with tracking, booking only accepted shipments', async function () {
      await call(erp.url, 'POST', '/orders', {
        body: order('100000020', [{ sku: 'MH01-S-Black', qty: 3 }, { sku: 'EBOOK', qty: 1, product_type: 'downloadable' }]),
        headers: { 'idempotency-key': 's' },
      });

      const part = await call(erp.url, 'POST', '/__erp/emit/shipments', { body: { partial: true } });
      assert.strictEqual(part.status, 200);
      const first = receiver.received[0];
      assert.strictEqual(first.path, '/erp/shipments');
      assertSchema('erp-shipment', first.body);
      assert.strictEqual(first.body.order_number, '100000020');
      assert.deepStrictEqual(first.body.lines, [{ sku: 'MH01-S-Black', qty: 1 }]);
      assert.strictEqual(first.body.invoice, true);
      assert.strictEqual(first.body.tracks.length, 1);
      assert.ok(first.body.tracks[0].number.length > 5);
      assert.strictEqual(erp.state.ordersByNumber.get('100000020').status, 'partially_shipped');

      receiver.answer(500);
      const refused = await call(erp.url, 'POST', '/__erp/emit/shipments', { body: {} });
      assert.strictEqual(refused.status, 502);
      assert.strictEqual(erp.state.shipments.length, 1, 'a shipment the integration refused is not booked');
      receiver.answer(202);

      const rest = await call(erp.url, 'POST', '/__erp/emit/shipments', { body: { order_number: '100000020', invoice: false } });
      assert.strictEqual(rest.status, 200);
      const last = receiver.received[2].body;
      assert.deepStrictEqual(last.lines, [{ sku: 'MH01-S-Black', qty: 2 }]);
      assert.strictEqual(last.invoice, undefined);
      assert.notStrictEqual(last.shipment_id, first.body.shipment_id);
      assert.strictEqual(erp.state.ordersByNumber.get('100000020').status, 'shipped');

      const shipments = await call(erp.url, 'GET', '/shipments?order_number=100000020');
      assert.deepStrictEqual(shipments.body.items.map((s) => s.lines[0].qty), [1, 2]);

      const nothing = await call(erp.url, 'POST', '/__erp/emit/shipments', { body: { order_number: '100000020' } });
      assert.strictEqual(nothing.status, 409);
      const over = await call(erp.url, 'POST', '/__erp/emit/shipments', { body: { order_number: 'nope' } });
      assert.strictEqual(over.status, 404);
    });

    it('refuses an over-shipment unless forced', async function () {
      await call(erp.url, 'POST', '/orders', { body: order('100000021'), headers: { 'idempotency-key': 'o' } });
      const res = await call(erp.url, 'POST', '/__erp/emit/shipments', {
        body: { order_number: '100000021', lines: [{ sku: '24-MB01', qty: 5 }] },
      });
      assert.strictEqual(res.status, 400);
      assert.strictEqual(res.body.field, 'lines[0].qty');
      assert.strictEqual(receiver.received.length, 0);
      const forced = await call(erp.url, 'POST', '/__erp/emit/shipments', {
        body: { order_number: '100000021', lines: [{ sku: '24-MB01', qty: 5 }], force: true, tracks: [{ carrier: 'custom', title: 'Van', number: 'V-1' }] },
      });
      assert.strictEqual(forced.status, 200);
      assert.deepStrictEqual(receiver.received[0].body.tracks, [{ carrier: 'custom', title: 'Van', number: 'V-1' }]);
    });

    it('sends the integration token when configured and keeps it out of the records', async function () {
      const withToken = await startDemoErp({ port: 0, integrationUrl: receiver.url, integrationToken: 'integration-secret-7' });
      try {
        await withToken.emit('stock', { items: [{ sku: 'X', qty: 1 }] });
        assert.strictEqual(receiver.received[0].headers.authorization, 'Bearer integration-secret-7');
        assert.ok(!JSON.stringify(withToken.deliveries).includes('integration-secret-7'));
      } finally {
        await withToken.close();
      }
    });

    it('emits on a timer for a live demo', async function () {
      const live = await startDemoErp({ port: 0, integrationUrl: receiver.url, emitEverySeconds: 0.05 });
      try {
        const deadline = Date.now() + 10000;
        while (receiver.received.filter((r) => r.path === '/erp/prices').length < 2) {
          assert.ok(Date.now() < deadline, 'the timer never emitted twice');
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.ok(receiver.received.some((r) => r.path === '/erp/stock'));
      } finally {
        await live.close();
      }
    });
  });
});
