'use strict';
const assert = require('assert');
const { PricePush, validatePriceUpdate, mapPriceFailures, renderMessage } = require('../../dist/lib/prices');
const { fakeClient, httpError } = require('../inventory/fake-client');

const opts = { defaultStoreId: 0, defaultWebsiteId: 0, defaultCustomerGroup: 'ALL GROUPS' };

/** Magento-like price endpoints: 200 with a failure list for unknown SKUs. */
function priceStore({ listParameters = true, max } = {}) {
  const known = new Set(['p1', 'p2', 'p3', 'A/B 1']);
  const saved = [];
  const client = fakeClient((req) => {
    const list = req.body.prices;
    if (max && list.length > max) throw httpError(400, `Maximum items of type "PriceInterface" is ${max}`);
    const failures = [];
    for (const p of list) {
      if (!known.has(p.sku)) {
        if (req.path.endsWith('tier-prices')) {
          failures.push({ message: 'The product that was requested doesn\'t exist. Verify the product and try again. Row ID: SKU = %SKU, Website ID: %websiteId, Customer Group: %customerGroup, Quantity: %qty.', parameters: listParameters ? [p.sku, String(p.website_id), p.customer_group, String(p.quantity)] : { SKU: p.sku, websiteId: p.website_id, customerGroup: p.customer_group, qty: p.quantity } });
        } else {
          failures.push({ message: 'The product that was requested doesn\'t exist. Verify the product and try again. Row ID: SKU = %SKU, Store ID: %storeId.', parameters: listParameters ? [p.sku, String(p.store_id)] : { SKU: p.sku, storeId: p.store_id } });
        }
      } else saved.push({ path: req.path, ...p });
    }
    return failures;
  });
  return { client, saved };
}

function makePush(client, options = {}) {
  const out = { results: [], settled: [] };
  const push = new PricePush(client, { windowMs: 0, ...options }, { onResult: (r) => out.results.push(r), onTicketSettled: (s) => out.settled.push(s) });
  return { push, out };
}

describe('prices core (fake client)', () => {
  it('validates prices, dates and tier fields', () => {
    assert.deepStrictEqual(validatePriceUpdate({ sku: 'a', price: '9.90' }, opts).value, { type: 'base', timestamp: undefined, body: { sku: 'a', price: 9.9, store_id: 0 } });
    assert.strictEqual(validatePriceUpdate({ sku: 'a', price: -1 }, opts).error.field, 'price');
    assert.strictEqual(validatePriceUpdate({ sku: 'a', price: 'abc' }, opts).error.field, 'price');
    assert.strictEqual(validatePriceUpdate({ sku: 'a', price: 1, store_id: 1.5 }, opts).error.field, 'store_id');
    const special = validatePriceUpdate({ sku: 'a', price: 5, price_from: '2024-06-01', price_to: '2024-06-30 23:59:59', store_id: 2 }, opts).value;
    assert.deepStrictEqual(special, { type: 'special', timestamp: undefined, body: { sku: 'a', price: 5, store_id: 2, price_from: '2024-06-01 00:00:00', price_to: '2024-06-30 23:59:59' } });
    assert.strictEqual(validatePriceUpdate({ sku: 'a', price: 5, price_from: '2024-02-30 00:00:00', price_to: '2024-03-01 00:00:00' }, opts).error.field, 'price_from');
    assert.strictEqual(validatePriceUpdate({ sku: 'a', price: 5, price_from: '2024-03-02 00:00:00', price_to: '2024-03-01 00:00:00' }, opts).error.field, 'price_to');
    assert.strictEqual(validatePriceUpdate({ sku: 'a', price: 5, type: 'special', price_from: '2024-03-02 00:00:00' }, opts).error.field, 'price_to');
    const tier = validatePriceUpdate({ sku: 'a', price: 4, customer_group: 'General', quantity: 10 }, opts).value;
    assert.deepStrictEqual(tier.body, { sku: 'a', price: 4, price_type: 'fixed', website_id: 0, customer_group: 'General', quantity: 10 });
    assert.strictEqual(validatePriceUpdate({ sku: 'a', price: 4, type: 'tier', quantity: 0 }, opts).error.field, 'quantity');
    assert.strictEqual(validatePriceUpdate({ sku: 'a', price: 140, type: 'tier', price_type: 'discount' }, opts).error.field, 'price');
    assert.strictEqual(validatePriceUpdate({ sku: 'a', price: 1, type: 'msrp' }, opts).error.field, 'type');
  });

  it('maps Magento failures to items, by list or by name', () => {
    const batch = [
      { type: 'base', body: { sku: 'x', price: 1, store_id: 0 } },
      { type: 'base', body: { sku: 'x', price: 2, store_id: 1 } },
      { type: 'base', body: { sku: 'y', price: 2, store_id: 0 } },
    ];
    const listed = mapPriceFailures(batch, [{ message: 'Row ID: SKU = %SKU, Store ID: %storeId.', parameters: ['x', '1'] }]);
    assert.deepStrictEqual(listed.rejections.map((r) => r.index), [1]);
    assert.strictEqual(listed.rejections[0].reason, 'Row ID: SKU = x, Store ID: 1.');
    const named = mapPriceFailures(batch, [{ message: 'Invalid attribute %fieldName = %fieldValue. Row ID: SKU = %SKU, Store ID: %storeId.', parameters: { fieldName: 'Price', fieldValue: '-1', SKU: 'y', storeId: '0' } }]);
    assert.deepStrictEqual(named.rejections.map((r) => r.index), [2]);
    assert.strictEqual(renderMessage('a %1 b %2', ['X', 'Y']), 'a X b Y');
    assert.deepStrictEqual(mapPriceFailures(batch, [{ message: 'Something broke' }]).unattributed, ['Something broke']);
  });

  for (const listParameters of [true, false]) {
    it(`per-item failures become rejections, never a silent success (${listParameters ? 'list' : 'named'} parameters)`, async () => {
      const { client, saved } = priceStore({ listParameters });
      const { push, out } = makePush(client);
      const input = await push.accept('m1', [
        { sku: 'p1', price: 10 },
        { sku: 'nope', price: 11, store_id: 1 },
        { sku: 'p2', price: 5, price_from: '2024-01-01 00:00:00', price_to: '2024-01-31 23:59:59' },
        { sku: 'p3', price: 4, customer_group: 'General', quantity: 5 },
        { sku: 'ghost', price: 4, customer_group: 'General', quantity: 5 },
        { sku: 'p1', price: -3 },
      ]);
      assert.deepStrictEqual(input.items.map((i) => [i.index, i.outcome, i.field]), [[5, 'invalid', 'price']]);
      await push.flush();
      const byType = Object.fromEntries(out.results.map((r) => [r.type, r]));
      assert.strictEqual(byType.base.status, 'partial');
      assert.deepStrictEqual(byType.base.items.map((i) => [i.sku, i.outcome]), [['p1', 'ok'], ['nope', 'rejected']]);
      assert.match(byType.base.items[1].reason, /SKU = nope, Store ID: 1/);
      assert.strictEqual(byType.special.status, 'ok');
      assert.strictEqual(byType.tier.status, 'partial');
      assert.strictEqual(byType.tier.items.find((i) => i.sku === 'ghost').outcome, 'rejected');
      assert.deepStrictEqual(saved.map((s) => s.path).sort(), ['/products/base-prices', '/products/special-price', '/products/tier-prices']);
      assert.strictEqual(out.settled[0].failed.length, 0);
    });
  }

  it('a failure naming no item bisects the batch until it does', async () => {
    const client = fakeClient((req) => (req.body.prices.some((p) => p.sku === 'bad') ? [{ message: 'Invalid price.' }] : []));
    const { push, out } = makePush(client);
    await push.accept('m1', ['a', 'b', 'bad', 'c'].map((sku) => ({ sku, price: 1 })));
    await push.flush();
    assert.deepStrictEqual(out.results[0].items.map((i) => i.outcome), ['ok', 'ok', 'rejected', 'ok']);
    assert.strictEqual(out.results[0].items[2].reason, 'Invalid price.');
  });

  it('coalesces per SKU and store view and batches to the input limit', async () => {
    const { client, saved } = priceStore({ max: 2 });
    const { push, out } = makePush(client);
    await push.accept('m1', [{ sku: 'p1', price: 1 }, { sku: 'p2', price: 1 }, { sku: 'p3', price: 1 }, { sku: 'p1', price: 2, store_id: 1 }]);
    await push.accept('m2', [{ sku: 'p1', price: 3 }]);
    await push.flush();
    const sent = saved.filter((s) => s.sku === 'p1').map((s) => [s.store_id, s.price]).sort();
    assert.deepStrictEqual(sent, [[0, 3], [1, 2]]);
    assert.strictEqual(out.results.reduce((n, r) => n + r.counts.superseded, 0), 1);
    assert.ok(out.results.every((r) => r.status === 'ok'));
  });
});

describe('price failure parameters', () => {
  it('zips list parameters with the first appearance of each placeholder', () => {
    const batch = [{ type: 'tier', body: { sku: 'T1', price: 1, price_type: 'fixed', website_id: 0, customer_group: 'General', quantity: 5 } }];
    const msg = 'Invalid attribute SKU = %SKU. Row ID: SKU = %SKU, Website ID: %websiteId, Customer Group: %customerGroup, Quantity: %qty.';
    const mapped = mapPriceFailures(batch, [{ message: msg, parameters: ['T1', 0, 'General', 5] }]);
    assert.deepStrictEqual(mapped.rejections.map((r) => r.index), [0]);
    assert.strictEqual(mapped.rejections[0].reason, 'Invalid attribute SKU = T1. Row ID: SKU = T1, Website ID: 0, Customer Group: General, Quantity: 5.');
    const base = mapPriceFailures([{ type: 'base', body: { sku: 'B/1', price: 1, store_id: 0 } }], [{ message: 'Invalid attribute %fieldName = %fieldValue.', parameters: ['SKU', 'B/1'] }]);
    assert.strictEqual(base.rejections[0].reason, 'Invalid attribute SKU = B/1.');
  });
});
