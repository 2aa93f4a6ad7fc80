'use strict';
/**
 * End to end: a real Node-RED process runs flows/magento-erp.json against the Magento sandbox and the demo
 * ERP (both in this process). Orders go Magento → ERP by polling and by webhook, ERP changes go back to
 * Magento, and faults in both end in the same final state. Every wait polls state with a deadline.
 */
const assert = require('assert');
const path = require('path');

const { startFullFlow, restartNodeRed, placeOrdersAhead, pressInject, waitFor, postJson, problemLines } = require('./support-full-flow');
const { mapAndValidateOrder, optionsFromConfig } = require('../../dist/lib/mapping');
const { validateSchema } = require('../../dist/lib/schemas');
const { openRetryQueueStore, openIdempotencyStore } = require('../../dist/lib/stores');

/** Generous: a loaded 2-core machine, retries with backoff and circuit breakers in the way. */
const DEADLINE = 180000;

describe('full integration flow in a real Node-RED (flows/magento-erp.json)', function () {
  this.timeout(900000);
  const erpToken = 'e2e-erp-token-' + Math.random().toString(36).slice(2);
  let stack;
  let magento;
  let erp;
  let mapOptions;

  before(async function () {
    stack = await startFullFlow({ orders: 12, pollSeconds: 2, erpToken });
    magento = stack.magento;
    erp = stack.erp;
    const mapNode = stack.nodes.find((n) => n.type === 'magento-map-order');
    mapOptions = optionsFromConfig(mapNode);
  });

  after(async function () {
    if (stack) await stack.stop();
  });

  afterEach(function () {
    if (this.currentTest.state === 'failed' && stack) {
      console.log(`Node-RED's last lines:\n${stack.logs.slice(-60).join('\n')}`);
    }
  });

  // ---- reading both sides -----------------------------------------------------------------------------

  /** The test's own reads go through the sandbox's REST API too: while faults are on, it tries again. */
  async function magentoGet(route) {
    let last;
    for (let attempt = 0; attempt < 40; attempt++) {
      try {
        const res = await fetch(`${magento.url}/rest/default/V1${route}`, {
          headers: { authorization: `Bearer ${magento.credentials.bearerToken}` }, signal: AbortSignal.timeout(15000),
        });
        if (res.ok) return await res.json();
        last = new Error(`GET ${route} answered ${res.status}`);
        if (res.status !== 429 && res.status < 500) throw last;
      } catch (err) {
        if (err === last && !/answered (429|5\d\d)/.test(err.message)) throw err;
        last = err;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw last;
  }

  /** Every order the sandbox holds (seeded and placed), as its REST API gives them. */
  async function allMagentoOrders() {
    const out = [];
    for (let page = 1; ; page++) {
      const body = await magentoGet(`/orders?searchCriteria[pageSize]=100&searchCriteria[currentPage]=${page}`);
      out.push(...body.items);
      if (body.items.length === 0 || out.length >= body.total_count) return out;
    }
  }

  /** POST /orders the ERP answered, per order number (201 = created, anything else counted apart). */
  function erpPosts() {
    const byOrder = new Map();
    for (const r of erp.requests) {
      if (r.method !== 'POST' || r.path !== '/orders' || !r.orderNumber) continue;
      const e = byOrder.get(r.orderNumber) ?? { created: 0, replayed: 0, conflicts: 0, failed: 0, keys: new Set() };
      if (r.status === 201 && !r.replayed) e.created++;
      else if (r.replayed) e.replayed++;
      else if (r.status === 409) e.conflicts++;
      else e.failed++;
      if (r.idempotencyKey) e.keys.add(r.idempotencyKey);
      byOrder.set(r.orderNumber, e);
    }
    return byOrder;
  }

  async function queueEntries(state) {
    const store = openRetryQueueStore({ kind: 'sqlite', name: 'retry-magento-erp', directory: path.join(stack.userDir, 'magento-erp') });
    try {
      return await store.list({ state, limit: 1000 });
    } finally {
      await store.close();
    }
  }

  /** Which orders should reach the ERP: those map-order accepts, with the flow's own mapping settings. */
  function splitByMapping(orders) {
    const valid = [];
    const invalid = [];
    for (const o of orders) (mapAndValidateOrder(o, mapOptions).ok ? valid : invalid).push(o);
    return { valid, invalid };
  }

  /** Waits until each of `numbers` is in the ERP, naming the missing ones on timeout. */
  async function waitForErpOrders(numbers, what) {
    await waitFor(what, () => numbers.every((n) => erp.state.ordersByNumber.has(n)), {
      timeoutMs: DEADLINE,
      explain: async () => {
        const missing = numbers.filter((n) => !erp.state.ordersByNumber.has(n));
        const pending = await queueEntries('pending').catch(() => []);
        const dead = await queueEntries('dead').catch(() => []);
        const inFlight = await queueEntries('in-flight').catch(() => []);
        const entry = (e) => `${e.message.payload?.increment_id ?? e.id} attempt ${e.attempt}, next ${new Date(e.nextAttemptAt).toISOString()}: `
          + e.history.slice(-3).map((h) => h.message).join(' / ');
        return `missing in the ERP: ${missing.join(', ')}\nretry queue: ${pending.length} waiting, ${inFlight.length} in flight, ${dead.length} dead\n`
          + [...pending, ...inFlight].filter((e) => missing.includes(e.message.payload?.increment_id)).map(entry).join('\n')
          + dead.slice(0, 5).map((d) => `\ndead: ${d.reason} ${d.history.at(-1)?.message}`).join('');
      },
    });
  }

  /** Every order reached the ERP exactly once, under one key, and holds a valid canonical order. */
  function assertExactlyOnce(numbers) {
    const posts = erpPosts();
    for (const n of numbers) {
      const order = erp.state.ordersByNumber.get(n);
      assert.ok(order, `order ${n} is not in the ERP`);
      const p = posts.get(n);
      assert.ok(p, `the ERP recorded no POST /orders for ${n}`);
      assert.strictEqual(p.created, 1, `order ${n} was created ${p.created} times`);
      assert.strictEqual(p.conflicts, 0, `order ${n} was sent under a second Idempotency-Key (409)`);
      assert.deepStrictEqual([...p.keys], [`order_${n}`], `order ${n} used keys ${[...p.keys]}`);
      const check = validateSchema('erp-order', order.order);
      assert.ok(check.valid, `order ${n} in the ERP is not valid: ${JSON.stringify(check.problems)}`);
    }
    assert.strictEqual(erp.state.orders.size, erp.state.ordersByNumber.size, 'the ERP holds a second copy of an order');
  }

  /** Runs `fn` on the order gate's store (the flow's SQLite file). */
  async function withOrderGate(fn) {
    const store = openIdempotencyStore({ kind: 'sqlite', name: 'gate-orders', directory: path.join(stack.userDir, 'magento-erp') });
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  }

  /** Keys the order gate holds in flight now: orders that passed it and wait for the ERP's answer. */
  async function orderKeysInFlight() {
    return withOrderGate(async (store) => (await store.counts()).inFlight);
  }

  /** What the order gate holds for order `number` (state, holder), or undefined. */
  async function orderKey(number) {
    return withOrderGate((store) => store.peek(`order_${number}`));
  }

  /** Retry queue entries still to deliver (pending or re-emitted, outcome not known yet). */
  async function liveQueueEntries() {
    return [...await queueEntries('pending'), ...await queueEntries('in-flight')];
  }

  // ---- the tests ------------------------------------------------------------------------------------------

  it('deploys every node of the flow without an error', async function () {
    const flows = await (await fetch(`${stack.nodeRedUrl}/flows`, { headers: { accept: 'application/json' } })).json();
    assert.strictEqual(flows.length, stack.nodes.length, 'Node-RED runs a different flow');
    const errors = stack.logs.filter((l) => /\[error\]/.test(l));
    assert.deepStrictEqual(errors, [], 'Node-RED logged errors while starting the flow');
  });

  it('sends every polled order to the ERP exactly once, valid, with the ERP token and the gate key', async function () {
    const orders = await allMagentoOrders();
    assert.ok(orders.length >= 12);
    const { valid, invalid } = splitByMapping(orders);
    const numbers = valid.map((o) => o.increment_id);
    await waitForErpOrders(numbers, `the ${numbers.length} seeded orders in the ERP`);
    // Several polls later (each re-reads its overlap), still one copy each.
    const polls = magento.requests().filter((r) => r.method === 'GET' && r.path === '/rest/default/V1/orders').length;
    await waitFor('two more polls', () => magento.requests().filter((r) => r.method === 'GET' && r.path === '/rest/default/V1/orders').length >= polls + 2, { timeoutMs: 60000 });
    assertExactlyOnce(numbers);
    // The demo ERP requires ERP_TOKEN: nothing was refused for want of it.
    assert.ok(!erp.requests.some((r) => r.status === 401), 'the ERP refused a request without the bearer token');
    // An order map-order refuses is a dead letter with its reasons, never in the ERP.
    if (invalid.length > 0) {
      await waitFor('invalid orders as dead letters', async () => {
        const dead = await queueEntries('dead');
        return invalid.every((o) => dead.some((d) => d.message.payload?.increment_id === o.increment_id));
      }, { timeoutMs: DEADLINE });
      for (const o of invalid) assert.ok(!erp.state.ordersByNumber.has(o.increment_id));
    }
  });

  it('takes webhooked orders delivered twice each: re-read by entity id, in the ERP once', async function () {
    const before = magento.webhookDeliveries().length;
    const placed = await magento.placeOrders(4, { webhook: true, duplicate: true });
    const deliveries = magento.webhookDeliveries().slice(before);
    assert.strictEqual(deliveries.length, 8, 'each order is delivered twice');
    assert.ok(deliveries.every((d) => d.status === 200), `webhook answers: ${deliveries.map((d) => d.status ?? d.error)}`);
    const { valid } = splitByMapping(await Promise.all(placed.map((o) => magentoGet(`/orders/${o.entity_id}`))));
    const numbers = valid.map((o) => o.increment_id);
    await waitForErpOrders(numbers, 'the webhooked orders in the ERP');
    // The webhook path re-read each order by its entity id.
    for (const o of placed) {
      assert.ok(magento.requests().some((r) => r.method === 'GET' && r.path === `/rest/default/V1/orders/${o.entity_id}`), `order ${o.entity_id} was not re-read`);
    }
    assertExactlyOnce(numbers);
  });

  it('refuses an ERP body that breaks its schema with 400 and every reason', async function () {
    const stock = await postJson(`${stack.nodeRedUrl}/erp/stock`, { items: [{ sku: '', qty: -1, extra: 1 }, { qty: 'x' }] });
    assert.strictEqual(stock.status, 400);
    const fields = stock.body.errors.map((e) => `${e.field} ${e.reason}`);
    for (const expected of ['/items/0/sku must not be empty', '/items/0/qty must be >= 0', '/items/0/extra is not an allowed field',
      '/items/1/sku is required', '/items/1/qty must be number']) {
      assert.ok(fields.includes(expected), `missing reason "${expected}" in ${JSON.stringify(fields)}`);
    }
    const shipment = await postJson(`${stack.nodeRedUrl}/erp/shipments`, { order_number: '1', lines: [] });
    assert.strictEqual(shipment.status, 400);
    assert.deepStrictEqual(shipment.body.errors.map((e) => e.field).sort(), ['/lines', '/shipment_id']);
    const notJson = await postJson(`${stack.nodeRedUrl}/erp/prices`, 'no json', { 'content-type': 'text/plain' });
    assert.strictEqual(notJson.status, 400);
    assert.match(notJson.body.message, /JSON/);
  });

  it('puts stock, prices and new products pushed by the ERP into Magento', async function () {
    const skus = [...erp.state.products.keys()].filter((sku) => magento.getSourceItem(sku, 'default')).slice(0, 3);
    assert.strictEqual(skus.length, 3, 'the ERP catalogue has sandbox SKUs with a default source');
    const stock = skus.map((sku, i) => ({ sku, qty: 500 + i, source: 'default' }));
    const [stockDelivery] = await erp.emit('stock', { items: stock });
    assert.strictEqual(stockDelivery.status, 202, JSON.stringify(stockDelivery));
    assert.deepStrictEqual(stockDelivery.response.items, stock);
    const prices = skus.map((sku, i) => ({ sku, price: 77.5 + i }));
    const [priceDelivery] = await erp.emit('prices', { items: prices });
    assert.strictEqual(priceDelivery.status, 202, JSON.stringify(priceDelivery));
    const [productDelivery] = await erp.emit('products', { count: 2 });
    assert.strictEqual(productDelivery.status, 202, JSON.stringify(productDelivery));
    const newProducts = productDelivery.payload.items;

    await waitFor('stock, prices and products in Magento', () =>
      stock.every((s) => magento.getSourceItem(s.sku, 'default')?.quantity === s.qty)
      && prices.every((p) => magento.getPrice(p.sku) === p.price)
      && newProducts.every((p) => magento.getProduct(p.sku)?.name === p.name), {
      timeoutMs: DEADLINE,
      explain: () => JSON.stringify({
        stock: stock.map((s) => [s.sku, s.qty, magento.getSourceItem(s.sku, 'default')?.quantity]),
        prices: prices.map((p) => [p.sku, p.price, magento.getPrice(p.sku)]),
        products: newProducts.map((p) => [p.sku, magento.getProduct(p.sku)?.name ?? 'missing']),
      }),
    });
    for (const p of newProducts) {
      const product = magento.getProduct(p.sku);
      assert.strictEqual(product.price, p.price);
      assert.strictEqual(product.status, 2, 'a new product is created disabled');
    }
  });

  /** An order placed now, in the ERP, with something to ship in two parts. */
  async function orderToShip() {
    for (let tries = 0; tries < 10; tries++) {
      const [placed] = await magento.placeOrders(1);
      const raw = await magentoGet(`/orders/${placed.entity_id}`);
      if (!mapAndValidateOrder(raw, mapOptions).ok) continue;
      await waitForErpOrders([placed.increment_id], `order ${placed.increment_id} in the ERP`);
      const erpOrder = erp.state.ordersByNumber.get(placed.increment_id);
      if (erpOrder.lines.length > 1 || erpOrder.lines[0].qty > 1) return { placed, erpOrder };
    }
    throw new Error('the sandbox placed no order with more than one item to ship');
  }

  async function shipmentsOf(entityId) {
    const q = `searchCriteria[filter_groups][0][filters][0][field]=order_id&searchCriteria[filter_groups][0][filters][0][value]=${entityId}`;
    return (await magentoGet(`/shipments?${q}`)).items;
  }

  async function invoicesOf(entityId) {
    const q = `searchCriteria[filter_groups][0][filters][0][field]=order_id&searchCriteria[filter_groups][0][filters][0][value]=${entityId}`;
    return (await magentoGet(`/invoices?${q}`)).items;
  }

  function shippedQty(entityId) {
    return magento.getOrder(entityId).items.filter((i) => !i.parent_item_id).reduce((s, i) => s + (i.qty_shipped || 0), 0);
  }

  it('ships and invoices part deliveries from the ERP; a repeated shipment creates nothing', async function () {
    const { placed, erpOrder } = await orderToShip();
    const total = erpOrder.lines.reduce((s, l) => s + l.qty, 0);

    const [first] = await erp.emit('shipments', { order_number: placed.increment_id, partial: true });
    assert.strictEqual(first.status, 201, JSON.stringify(first));
    assert.strictEqual(first.response.status, 'shipped');
    const firstQty = first.payload.lines.reduce((s, l) => s + l.qty, 0);
    assert.ok(firstQty < total, 'the first delivery is a part delivery');
    assert.strictEqual(shippedQty(placed.entity_id), firstQty);
    assert.strictEqual(magento.getOrder(placed.entity_id).state, 'processing');

    // The ERP sends the same delivery again: answered, nothing created twice.
    const again = await postJson(`${stack.nodeRedUrl}/erp/shipments`, first.payload);
    assert.strictEqual(again.status, 200, JSON.stringify(again.body));
    assert.strictEqual(again.body.status, 'already shipped');

    const [rest] = await erp.emit('shipments', { order_number: placed.increment_id });
    assert.strictEqual(rest.status, 201, JSON.stringify(rest));
    assert.strictEqual(shippedQty(placed.entity_id), total);
    const shipments = await shipmentsOf(placed.entity_id);
    assert.strictEqual(shipments.length, 2);
    assert.deepStrictEqual(shipments.flatMap((s) => s.tracks.map((t) => t.track_number)).sort(),
      [...first.payload.tracks, ...rest.payload.tracks].map((t) => t.number).sort());
    assert.strictEqual((await invoicesOf(placed.entity_id)).length, 2, 'each delivery is invoiced');
    assert.strictEqual(magento.getOrder(placed.entity_id).state, 'complete');

    // Shipping more than was ordered: Magento's refusal reaches the ERP, which keeps it open.
    const { placed: other } = await orderToShip();
    const over = await erp.emit('shipments', { order_number: other.increment_id, lines: [{ sku: erp.state.ordersByNumber.get(other.increment_id).lines[0].sku, qty: 999 }], force: true });
    assert.strictEqual(over[0].status, 422, JSON.stringify(over[0]));
    assert.strictEqual((await shipmentsOf(other.entity_id)).length, 0);
  });

  it('ends in the same state when Magento and the ERP fail for a while: nothing lost, no duplicates', async function () {
    // Faults on every Magento route the flow uses (counted, so the run is deterministic), then random ones.
    magento.setFaults({
      next: [
        { count: 3, fault: 503, route: '/V1/orders' },
        { count: 2, fault: 'reset', route: '/V1/orders' },
        { count: 3, fault: 429, route: '/V1/inventory/source-items', retryAfter: 1 },
        { count: 2, fault: 503, route: '/V1/products/base-prices' },
        { count: 2, fault: 'reset', route: '/ship' },
        { count: 1, fault: 502, route: '/V1/products' },
      ],
      rate429: 0.15, rate503: 0.1, resetRate: 0.05, retryAfterSeconds: 1, seed: 7,
    });
    erp.setFaults({ failNextOrders: 4, status: 503, retryAfterSeconds: 1 });

    const placedByWebhook = await magento.placeOrders(3, { webhook: true, duplicate: true });
    const placedQuietly = await magento.placeOrders(3);
    const skus = [...erp.state.products.keys()].filter((sku) => magento.getSourceItem(sku, 'default')).slice(3, 7);
    const stock = skus.map((sku, i) => ({ sku, qty: 900 + i, source: 'default' }));
    const prices = skus.map((sku, i) => ({ sku, price: 123.25 + i }));
    const stockDelivery = await erp.emit('stock', { items: stock });
    const priceDelivery = await erp.emit('prices', { items: prices });
    assert.strictEqual(stockDelivery[0].status, 202);
    assert.strictEqual(priceDelivery[0].status, 202);
    // A shipment for an order already in the ERP, while Magento fails: answered 201 or queued (202).
    const { placed: toShip, erpOrder } = await orderToShip();
    const shipment = await erp.emit('shipments', { order_number: toShip.increment_id });
    assert.ok([201, 202].includes(shipment[0].status), JSON.stringify(shipment[0]));

    // Some faults happened; then they stop.
    await waitFor('the faults to be hit', () => magento.requests().some((r) => r.status === 503 || r.status === 429), { timeoutMs: 60000 });
    magento.setFaults({});
    erp.setFaults({});

    const placed = [...placedByWebhook, ...placedQuietly];
    const raws = await Promise.all(placed.map((o) => magentoGet(`/orders/${o.entity_id}`)));
    const numbers = splitByMapping(raws).valid.map((o) => o.increment_id);
    await waitForErpOrders(numbers, 'every order placed during the faults in the ERP');
    const total = erpOrder.lines.reduce((s, l) => s + l.qty, 0);
    await waitFor('stock, prices and the shipment in Magento', () =>
      stock.every((s) => magento.getSourceItem(s.sku, 'default')?.quantity === s.qty)
      && prices.every((p) => magento.getPrice(p.sku) === p.price)
      && shippedQty(toShip.entity_id) === total, {
      timeoutMs: DEADLINE,
      explain: async () => JSON.stringify({
        stock: stock.map((s) => [s.sku, s.qty, magento.getSourceItem(s.sku, 'default')?.quantity]),
        prices: prices.map((p) => [p.sku, p.price, magento.getPrice(p.sku)]),
        shipped: [shippedQty(toShip.entity_id), total],
        pending: (await queueEntries('pending')).map((e) => `${e.message.reentry}: ${e.history.at(-1)?.message}`),
        dead: (await queueEntries('dead')).map((e) => `${e.message.reentry}: ${e.reason} ${e.history.at(-1)?.message}`),
      }),
    });
    // Nothing lost: no retry left waiting, and no dead letter from the faults (only mapping refusals may be dead).
    await waitFor('the retry queue to empty', async () => (await queueEntries('pending')).length === 0 && (await queueEntries('in-flight')).length === 0, { timeoutMs: DEADLINE });
    const dead = await queueEntries('dead');
    const fromFaults = dead.filter((d) => d.history.some((h) => h.errorClass === 'transient'));
    assert.deepStrictEqual(fromFaults.map((d) => d.history.at(-1).message), [], 'a message died of the temporary faults');
    // No duplicates: each order once, one shipment for the one delivery.
    assertExactlyOnce([...numbers, ...erp.state.ordersByNumber.keys()]);
    assert.strictEqual((await shipmentsOf(toShip.entity_id)).length, 1, 'the shipment was created twice');
    assert.strictEqual((await invoicesOf(toShip.entity_id)).length, 1, 'the invoice was created twice');
  });

  it('keeps refused items as dead letters; the Operations buttons retry and discard them', async function () {
    const button = (name) => {
      const node = stack.nodes.find((n) => n.type === 'inject' && n.name === name);
      assert.ok(node, `no "${name}" button on the Operations tab`);
      return node.id;
    };
    const sku = 'E2E-NO-SUCH-SKU';
    const answer = await postJson(`${stack.nodeRedUrl}/erp/stock`, { items: [{ sku, qty: 5 }] });
    assert.strictEqual(answer.status, 202);
    const deadFor = async () => (await queueEntries('dead')).find((d) => d.message.payload?.items?.some((i) => i.sku === sku));
    const first = await waitFor(`a dead letter for the unknown SKU ${sku}`, deadFor, { timeoutMs: DEADLINE });
    assert.strictEqual(first.reason, 'validation');
    assert.strictEqual(first.message.reentry, 'stock');
    assert.match(first.history.at(-1).message, new RegExp(sku));

    await pressInject(stack, button('retry all dead letters'));
    const again = await waitFor('the retried dead letter to be refused again', async () => {
      const d = await deadFor();
      return d && d.id === first.id && d.history.length > first.history.length ? d : undefined;
    }, { timeoutMs: DEADLINE });
    assert.strictEqual(again.history.length, first.history.length + 1, 'the retry continued the same entry');

    await pressInject(stack, button('discard all dead letters'));
    await waitFor('the dead letters to be discarded', async () => (await queueEntries('dead')).length === 0, { timeoutMs: DEADLINE });
  });

  it('holds the reader back while the ERP is slow: at most two pages of orders wait for it', async function () {
    // The ERP answers after 1.5 s on its 100 connections, Magento pages in milliseconds: without back-pressure
    // through the gate every new order would be read at once and wait in Node-RED's memory.
    erp.setFaults({ latencyMs: 1500 });
    const placed = new Set((await magento.placeOrders(450)).map((o) => o.entity_id));
    const numbers = splitByMapping((await allMagentoOrders()).filter((o) => placed.has(o.entity_id))).valid.map((o) => o.increment_id);
    assert.ok(numbers.length > 300, `only ${numbers.length} of the placed orders map`);
    let most = 0;
    await waitFor('the slow ERP to take every new order', async () => {
      most = Math.max(most, await orderKeysInFlight());
      return numbers.every((n) => erp.state.ordersByNumber.has(n));
    }, { timeoutMs: DEADLINE, intervalMs: 100 });
    erp.setFaults({});
    // Two pages of 100 (read-orders' default "in flight"): an order is taken over when its key is committed.
    assert.ok(most <= 200, `${most} orders waited for the ERP at once (at most two pages of 100 should)`);
    assert.ok(most >= 100, `only ${most} orders waited at once: the ERP was not the bottleneck, the test proves nothing`);
    assertExactlyOnce(numbers);
    // The stack as the next test expects it: no call open in the ERP, no key in flight, no retry to deliver.
    await waitFor('the stack to settle after the slow ERP', async () => erp.openRequests().length === 0
      && await orderKeysInFlight() === 0 && (await liveQueueEntries()).length === 0, {
      timeoutMs: DEADLINE,
      explain: async () => `open in the ERP: ${erp.openRequests().length}, order keys in flight: ${await orderKeysInFlight()}, `
        + `retries to deliver: ${(await liveQueueEntries()).map((e) => `${e.message.payload?.increment_id ?? e.id} (${e.state})`).join(', ')}`,
    });
  });

  it('parks a failed order\'s key for its retry: polls re-reading it meanwhile neither call the ERP nor queue a second retry', async function () {
    // Every poll re-reads the last 10 s before its cursor (overlap) until a poll started 11 s after the cursor was
    // saved: five or six re-reads of an order that just failed. Its key is parked for the retry queue, so each
    // re-read is held back at the gate. (Released, each would pass, fail again and queue one more retry entry.)
    erp.setFaults({ failNextOrders: 100000, status: 503, retryAfterSeconds: 20 });
    const raws = await Promise.all((await magento.placeOrders(2)).map((o) => magentoGet(`/orders/${o.entity_id}`)));
    const numbers = splitByMapping(raws).valid.map((o) => o.increment_id);
    assert.ok(numbers.length > 0, 'the sandbox placed no order that maps');
    const failures = (n) => erp.requests.filter((r) => r.orderNumber === n && r.status === 503).length;
    await waitFor('the first attempts to fail', () => numbers.every((n) => failures(n) > 0), { timeoutMs: DEADLINE, intervalMs: 10 });
    const searches = () => magento.requests().filter((r) => r.method === 'GET' && r.path === '/rest/default/V1/orders').length;
    const before = searches();
    await waitFor('seven more polls (14 s: the overlap settled)', () => searches() >= before + 7, { timeoutMs: DEADLINE });
    const live = await liveQueueEntries();
    for (const n of numbers) {
      const entries = live.filter((e) => e.message.payload?.increment_id === n);
      assert.strictEqual(entries.length, 1, `order ${n} has ${entries.length} retry entries`);
      // Every failed ERP call for it is an attempt of that one entry (a retry may have come due meanwhile).
      assert.strictEqual(failures(n), entries[0].attempt, `order ${n}: ${failures(n)} failed ERP calls, ${entries[0].attempt} attempts queued`);
      const key = await orderKey(n);
      assert.strictEqual(key?.state, 'in-flight');
      assert.ok(['retry:*', `retry:${entries[0].id}`].includes(key.holder), `order ${n}'s key is held by ${key.holder}`);
    }
    erp.setFaults({});
    await waitForErpOrders(numbers, 'the parked orders, retried, in the ERP');
    assertExactlyOnce(numbers);
    await waitFor('their retries to be finished', async () => {
      const left = (await liveQueueEntries()).filter((e) => numbers.includes(e.message.payload?.increment_id));
      return left.length === 0 && (await Promise.all(numbers.map(orderKey))).every((k) => k?.state === 'done');
    }, { timeoutMs: DEADLINE });
    const dead = (await queueEntries('dead')).filter((e) => numbers.includes(e.message.payload?.increment_id));
    assert.deepStrictEqual(dead.map((e) => e.reason), [], 'a parked order became a dead letter');
  });

  it('loses nothing when Node-RED stops while a retried order is on its way to the ERP', async function () {
    // Polled only (no webhook), so that after its first failure the retry queue's entry is the order's only copy.
    // That needs one more thing: every poll re-reads the orders of the last 10 s (overlap) before the cursor, and
    // once a failed attempt released its key the gate lets such a re-read through. It would race the retry for the
    // key and, once ahead, stay ahead: the poll waiting behind a run starts the moment the run's last attempt settles
    // (gate completeWhen 'settled'), while the retry waits for its backoff and the ERP's circuit. So one more order,
    // stamped a minute later and read by the same poll, moves the cursor past them.
    // The latency fault goes on the moment the first attempts have failed (read from the ERP's own records, in this
    // process): a poll reading the later order again right after them then hangs instead of failing too, so only
    // those first failures count toward the ERP's circuit breaker (it opens at 5). Retry-After 5 s keeps every
    // retry back until then.
    erp.setFaults({ failNextOrders: 100000, status: 503, retryAfterSeconds: 5 });
    const placing = magento.placeOrders(2);
    const placingLater = placeOrdersAhead(stack, 1, 60000);
    const placed = await placing;
    const [later] = await placingLater;
    const raws = await Promise.all(placed.map((o) => magentoGet(`/orders/${o.entity_id}`)));
    const numbers = splitByMapping(raws).valid.map((o) => o.increment_id);
    assert.ok(numbers.length > 0, 'the sandbox placed no order that maps');
    const laterMaps = splitByMapping([await magentoGet(`/orders/${later.entity_id}`)]).valid.length === 1;
    const failedOnce = (n) => erp.requests.some((r) => r.orderNumber === n && r.status === 503);
    await waitFor('the first attempts to fail', () => numbers.every(failedOnce) && (!laterMaps || failedOnce(later.increment_id)), {
      timeoutMs: DEADLINE, intervalMs: 5,
    });
    // The next attempt hangs in the ERP; Node-RED stops under it, so that attempt never gets an answer.
    erp.setFaults({ latencyMs: 120000 });
    await waitFor('the orders to wait in the retry queue, the later order read', async () => {
      const pending = await queueEntries('pending');
      const laterRead = laterMaps || (await queueEntries('dead')).some((e) => e.message.payload?.increment_id === later.increment_id);
      return laterRead && numbers.every((n) => pending.some((e) => e.message.payload?.increment_id === n));
    }, { timeoutMs: DEADLINE });
    // On its way: the retry queue's entry is in flight, the gate key is held for that entry, the ERP holds the call.
    const stopped = await waitFor('a retried attempt to be on its way to the ERP', async () => {
      const inFlight = await queueEntries('in-flight');
      for (const n of numbers) {
        const entry = inFlight.find((e) => e.message.payload?.increment_id === n);
        const call = erp.openRequests().find((r) => r.orderNumber === n);
        if (!entry || !call) continue;
        const key = await orderKey(n);
        if (key?.state === 'in-flight' && key.holder === `retry:${entry.id}`) return { number: n, call };
      }
      return undefined;
    }, {
      timeoutMs: DEADLINE,
      explain: async () => {
        const keys = await Promise.all(numbers.map(async (n) => `${n}: ${JSON.stringify(await orderKey(n))}`));
        const open = erp.openRequests().map((r) => `${r.orderNumber ?? r.path} since ${r.time}`);
        const live = (await liveQueueEntries()).map((e) => `${e.message.payload?.increment_id ?? e.id} ${e.state} attempt ${e.attempt}, `
          + `next ${new Date(e.nextAttemptAt).toISOString()}: ${e.history.at(-1)?.message}`);
        return `open in the ERP: ${open.join(', ') || 'none'}\ngate keys: ${keys.join('; ')}\nretry queue:\n${live.join('\n')}`;
      },
    });
    // The ERP recovers while Node-RED is down: what the new process re-sends at once meets no fault.
    await restartNodeRed(stack, { whileStopped: () => erp.setFaults({}) });
    assert.ok(stopped.call.abandoned, `the ERP did not see the stopped attempt for ${stopped.number} hang up`);
    const all = laterMaps ? [...numbers, later.increment_id] : numbers;
    await waitForErpOrders(all, 'the orders whose attempt was cut off by the restart in the ERP');
    assertExactlyOnce(all);
  });

  it('loses nothing across a restart: orders waiting for the ERP are sent once Node-RED is back', async function () {
    erp.setFaults({ failNextOrders: 100000, status: 503 });
    const placed = await magento.placeOrders(2, { webhook: true, duplicate: true });
    const raws = await Promise.all(placed.map((o) => magentoGet(`/orders/${o.entity_id}`)));
    const numbers = splitByMapping(raws).valid.map((o) => o.increment_id);
    await waitFor('the orders to wait in the retry queue', async () => {
      const waiting = [...await queueEntries('pending'), ...await queueEntries('in-flight')];
      return numbers.every((n) => waiting.some((e) => e.message.payload?.increment_id === n));
    }, { timeoutMs: DEADLINE });
    await restartNodeRed(stack, { whileStopped: () => erp.setFaults({}) });
    await waitForErpOrders(numbers, 'the orders queued before the restart in the ERP');
    assertExactlyOnce(numbers);
  });

  it('never logs a secret', function () {
    const c = magento.credentials;
    const secrets = [erpToken, stack.webhookSecret, c.bearerToken, c.oauth.consumerSecret, c.oauth.accessToken, c.oauth.accessTokenSecret, c.adminPassword];
    const text = stack.logs.join('\n');
    for (const s of secrets) assert.ok(!text.includes(s), `Node-RED's output holds a secret (${s.slice(0, 6)}…)`);
    // Problems logged are named, never a crash.
    assert.ok(!problemLines(stack).some((l) => /TypeError|ReferenceError|Cannot read prop/.test(l)), problemLines(stack).join('\n'));
    // The webhook-in node had its secret (from ${WEBHOOK_SECRET}); the json nodes compiled the ERP schemas silently.
    assert.ok(!stack.logs.some((l) => /secret[^\n]*required|environment variable \S+ is not set/i.test(l)), 'a node started without its secret');
    assert.ok(!stack.logs.some((l) => /strict mode|allowUnionTypes/.test(l)), stack.logs.filter((l) => /strict mode/.test(l)).join('\n'));
  });
});
