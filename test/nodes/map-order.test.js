'use strict';
const assert = require('assert');
const helper = require('node-red-node-test-helper');
const mapOrderNode = require('../../dist/nodes/map-order/map-order.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const { validateSchema } = require('../../dist/lib/schemas');
const fixtures = require('../mapping/fixtures');

helper.init(require.resolve('node-red'));

/** Resolves with the next message a helper node receives. */
function next(node) {
  return new Promise((resolve) => node.once('input', resolve));
}

describe('magento-map-order node', function () {
  this.timeout(10000);

  beforeEach(function (done) { helper.startServer(done); });
  afterEach(async () => {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
  });

  async function load(config = {}, { wireInvalid = true } = {}) {
    const flow = [
      { id: 'mapper', type: 'magento-map-order', name: 'orders to ERP', wires: [['valid'], wireInvalid ? ['invalid'] : []], ...config },
      { id: 'valid', type: 'helper' },
      { id: 'invalid', type: 'helper' },
      { id: 'catcher', type: 'catch', scope: ['mapper'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ];
    await helper.load([catchNode, mapOrderNode], flow);
    return { map: helper.getNode('mapper'), valid: helper.getNode('valid'), invalid: helper.getNode('invalid'), caught: helper.getNode('caught') };
  }

  it('registers as magento-map-order with two outputs', async function () {
    const { map } = await load();
    assert.strictEqual(map.type, 'magento-map-order');
  });

  it('maps a valid order to output 1 with the raw order kept and an idempotency key', async function () {
    const { map, valid } = await load();
    const raw = fixtures.configurableOrder();
    const copy = JSON.parse(JSON.stringify(raw));
    const got = next(valid);
    map.receive({ payload: raw });
    const msg = await got;
    assert.strictEqual(msg.payload.order_number, '000000002');
    assert.deepStrictEqual(msg.magentoOrder, copy);
    assert.strictEqual(msg.idempotencyKey, 'order_000000002');
    assert.strictEqual(msg.payload.items.length, 1, 'configurable parent and child are one line');
    assert.strictEqual(msg.failure, undefined);
    const check = validateSchema('erp-order', msg.payload);
    assert.deepStrictEqual(check.problems, []);
  });

  it('keeps an idempotency key that is already set (e.g. by webhook-in)', async function () {
    const { map, valid } = await load();
    const got = next(valid);
    map.receive({ payload: fixtures.simpleOrder(), idempotencyKey: 'delivery-42' });
    assert.strictEqual((await got).idempotencyKey, 'delivery-42');
  });

  it('re-maps a message that was mapped before from msg.magentoOrder', async function () {
    const { map, valid } = await load({ paymentMethods: [{ from: 'checkmo', to: 'CHQ' }] });
    const first = next(valid);
    map.receive({ payload: fixtures.simpleOrder() });
    const mapped = await first;
    assert.strictEqual(mapped.payload.payment.method, 'CHQ');
    const again = next(valid);
    map.receive({ payload: mapped.payload, magentoOrder: mapped.magentoOrder, erpOrder: { stale: true } });
    const remapped = await again;
    assert.deepStrictEqual(remapped.payload, mapped.payload);
    assert.strictEqual(remapped.erpOrder, undefined);
  });

  it('parses a JSON string payload', async function () {
    const { map, valid } = await load();
    const got = next(valid);
    map.receive({ payload: JSON.stringify(fixtures.guestDiscountOrder()) });
    const msg = await got;
    assert.strictEqual(msg.payload.customer.customer_id, null);
    assert.strictEqual(msg.payload.customer.first_name, 'Sam');
  });

  it('sends an invalid order to output 2 naming every field, with the raw order untouched', async function () {
    const { map, valid, invalid } = await load();
    let leaked = false;
    valid.on('input', () => { leaked = true; });
    const raw = fixtures.simpleOrder();
    raw.items[0].qty_ordered = 'two';
    delete raw.items[1].sku;
    const got = next(invalid);
    map.receive({ payload: raw });
    const msg = await got;
    assert.strictEqual(leaked, false);
    assert.deepStrictEqual(msg.payload, raw, 'the Magento order stays on payload for a re-map');
    assert.deepStrictEqual(msg.magentoOrder, raw);
    assert.strictEqual(msg.failure.name, 'ValidationError');
    assert.strictEqual(msg.failure.errorClass, 'validation');
    assert.strictEqual(msg.failure.details.stage, 'input');
    const reasons = msg.failure.details.problems.map((p) => `${p.field}: ${p.reason}`);
    assert.deepStrictEqual(reasons.sort(), ['/payload/items/0/qty_ordered: must be a number', '/payload/items/1/sku: is required']);
    assert.match(msg.failure.message, /\/payload\/items\/0\/qty_ordered: must be a number/);
    assert.match(msg.failure.message, /\/payload\/items\/1\/sku: is required/);
  });

  it('rejects an order whose lines do not add up, naming the difference, and keeps the mapped result', async function () {
    const { map, invalid } = await load();
    const raw = fixtures.codOrder();
    raw.extension_attributes.cod_fee = undefined; // a fee the mapping cannot see
    const got = next(invalid);
    map.receive({ payload: raw });
    const msg = await got;
    assert.strictEqual(msg.failure.details.stage, 'mapping');
    assert.strictEqual(msg.failure.field, '/payload/grand_total');
    assert.match(msg.failure.message, /70\.50 USD but the lines and service lines add up to 65\.50 \(-5\.00\)/);
    assert.strictEqual(msg.erpOrder.order_number, '000000007');
  });

  it('applies lookup tables and field rules from the editor configuration', async function () {
    const { map, valid } = await load({
      paymentMethods: [{ from: 'checkmo', to: 'CHEQUE' }],
      shippingMethods: [{ from: 'flatrate_flatrate', to: 'DHL-STD' }],
      shippingUnknown: 'error',
      fieldRules: [
        { target: 'metadata.channel', kind: 'template', value: 'web-{{store_id}}', scope: 'order', onMissing: 'skip' },
        { target: 'ean', kind: 'source', value: 'product_id', scope: 'item', onMissing: 'null' },
      ],
      amounts: 'incl_tax',
    });
    const got = next(valid);
    map.receive({ payload: fixtures.simpleOrder() });
    const msg = await got;
    assert.strictEqual(msg.payload.payment.method, 'CHEQUE');
    assert.strictEqual(msg.payload.payment.magento_method, 'checkmo');
    assert.strictEqual(msg.payload.shipping.method, 'DHL-STD');
    assert.strictEqual(msg.payload.service_lines[0].code, 'DHL-STD');
    assert.strictEqual(msg.payload.metadata.channel, 'web-1');
    assert.ok(msg.payload.items.every((i) => typeof i.ean === 'number'));
    assert.strictEqual(msg.payload.prices_include_tax, true);
  });

  it('rejects an unknown shipping method when the table says so', async function () {
    const { map, invalid } = await load({ shippingUnknown: 'error', shippingMethods: [{ from: 'ups_GND', to: 'UPS' }] });
    const got = next(invalid);
    map.receive({ payload: fixtures.simpleOrder() });
    const msg = await got;
    assert.match(msg.failure.message, /"flatrate_flatrate" has no entry in the shipping method lookup table/);
  });

  it('counts mapped and invalid orders in the status', async function () {
    const { map, valid, invalid } = await load();
    const statuses = [];
    map.on('call:status', (call) => statuses.push(call.args[0]));
    const gotValid = next(valid);
    map.receive({ payload: fixtures.simpleOrder() });
    await gotValid;
    const gotInvalid = next(invalid);
    map.receive({ payload: { increment_id: 'x' } });
    await gotInvalid;
    // The test helper's RED._ returns the key; the catalog text is checked below.
    assert.deepStrictEqual(statuses.map((s) => s.fill), ['green', 'yellow']);
    assert.ok(statuses.every((s) => s.text === 'magento-map-order.status.counts'));
    const catalog = require('../../nodes/map-order/locales/en-US/map-order.json');
    assert.strictEqual(catalog['magento-map-order'].status.counts, 'mapped __mapped__ · invalid __invalid__');
  });

  it('shows the counts of a burst of orders a few times, not once per order, and always after the last one', async function () {
    const { map, valid } = await load();
    const statuses = [];
    map.on('call:status', () => statuses.push(Date.now()));
    let received = 0;
    let lastAt = 0;
    valid.on('input', () => { received++; lastAt = Date.now(); });
    for (let i = 0; i < 200; i++) map.receive({ payload: fixtures.simpleOrder() });
    const deadline = Date.now() + 8000;
    while (received < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.strictEqual(received, 200);
    // A status at most every half second: the burst's first order, maybe a few during it, then the last counts.
    assert.ok(statuses.length >= 1 && statuses.length <= 5, `${statuses.length} status updates for 200 orders`);
    // The last order's counts are shown: rendered with it (just before it was sent) or by the trailing update.
    while (statuses[statuses.length - 1] < lastAt - 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(statuses[statuses.length - 1] >= lastAt - 50, 'the counts were not shown after the last order');
    assert.ok(statuses.length <= 6, `${statuses.length} status updates for 200 orders`);
  });

  it('reports an invalid order to Catch when output 2 is not wired, never dropping it', async function () {
    const { map, caught } = await load({}, { wireInvalid: false });
    const got = next(caught);
    map.receive({ payload: { entity_id: 'nope' } });
    const msg = await got;
    assert.strictEqual(msg.failure.errorClass, 'validation');
    assert.match(msg.error.message, /\/payload\/entity_id: must be an integer/);
    assert.deepStrictEqual(msg.payload, { entity_id: 'nope' });
  });

  it('fails every message with a configuration error instead of mapping with a broken setup', async function () {
    const { map, caught } = await load({ fees: '[{"type":"Bad Type"}]' });
    const got = next(caught);
    map.receive({ payload: fixtures.simpleOrder() });
    const msg = await got;
    assert.strictEqual(msg.failure.errorClass, 'permanent');
    assert.strictEqual(msg.failure.operation, 'order.map');
    assert.strictEqual(map.status.lastCall.args[0].fill, 'red');
  });
});
