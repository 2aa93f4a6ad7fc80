'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { SchemaRegistry, schemas, validateSchema, assertValid, formatProblem, problemsToError, schemaDir } = require('../../dist/lib/schemas');
const { mapAndValidateOrder } = require('../../dist/lib/mapping');
const fixtures = require('../mapping/fixtures');

const reasons = (name, data) => validateSchema(name, data).problems.map(formatProblem).sort();

describe('schemas/ and lib/schemas', function () {
  it('finds schemas/ from dist and every shipped schema compiles under ajv strict mode', function () {
    const dir = schemaDir();
    assert.strictEqual(path.basename(dir), 'schemas');
    const names = fs.readdirSync(dir).filter((n) => n.endsWith('.schema.json')).map((n) => n.replace('.schema.json', ''));
    assert.deepStrictEqual(names.sort(), ['erp-order', 'erp-prices', 'erp-products', 'erp-shipment', 'erp-stock', 'magento-order']);
    for (const name of names) {
      const schema = JSON.parse(fs.readFileSync(path.join(dir, `${name}.schema.json`), 'utf8'));
      assert.strictEqual(schema.$schema, 'https://json-schema.org/draft/2020-12/schema', name);
      assert.ok(schema.$id.endsWith(`${name}.schema.json`), name);
      assert.strictEqual(typeof new SchemaRegistry(dir).validator(name), 'function');
    }
  });

  it('caches compiled validators by name', function () {
    assert.strictEqual(schemas().validator('erp-stock'), schemas().validator('erp-stock'));
  });

  it('refuses a schema name that is not a plain file name', function () {
    assert.throws(() => schemas().validator('../package'), /Invalid schema name/);
    assert.throws(() => schemas().validator('no-such-schema'), /not found/);
  });

  describe('erp-stock', function () {
    it('accepts {items:[{sku, qty, source?}]}', function () {
      assert.deepStrictEqual(reasons('erp-stock', { items: [{ sku: '24-MB01', qty: 12 }, { sku: 'MH01 / XS', qty: 0, source: 'warehouse_east' }] }), []);
    });
    it('names every bad field in plain words', function () {
      assert.deepStrictEqual(reasons('erp-stock', { items: [{ sku: ' A', qty: '3' }, { sku: '', qty: -1, quantity: 4 }, { qty: 1 }] }), [
        '/items/0/qty: must be a number',
        '/items/0/sku: must be a Magento SKU: 1 to 64 characters, no leading or trailing whitespace',
        '/items/1/qty: must be >= 0',
        '/items/1/quantity: is not an allowed field',
        '/items/1/sku: must not be empty',
        '/items/2/sku: is required',
      ]);
      assert.deepStrictEqual(reasons('erp-stock', { items: [] }), ['/items: must not be empty']);
      assert.deepStrictEqual(reasons('erp-stock', [{ sku: 'A', qty: 1 }]), ['/: must be an object']);
    });
  });

  describe('erp-prices', function () {
    it('accepts {items:[{sku, price, store_id?}]}', function () {
      assert.deepStrictEqual(reasons('erp-prices', { items: [{ sku: 'A', price: 9.99 }, { sku: 'B', price: 0, store_id: 2 }] }), []);
    });
    it('refuses negative prices, fractional store ids and unknown fields', function () {
      assert.deepStrictEqual(reasons('erp-prices', { items: [{ sku: 'A', price: -1, store_id: 1.5, currency: 'EUR' }] }), [
        '/items/0/currency: is not an allowed field',
        '/items/0/price: must be >= 0',
        '/items/0/store_id: must be an integer',
      ]);
    });
  });

  describe('erp-shipment', function () {
    const good = { shipment_id: 'DLV-1001', order_number: '000000001', lines: [{ sku: '24-MB01', qty: 1 }], tracks: [{ carrier: 'dhl', title: 'DHL', number: '00340434161094042557' }], invoice: true };
    it('accepts a part delivery with tracks and an invoice flag; shipment_id may be a number', function () {
      assert.deepStrictEqual(reasons('erp-shipment', good), []);
      assert.deepStrictEqual(reasons('erp-shipment', { shipment_id: 77, order_number: '000000001', lines: [{ sku: 'A', qty: 0.5 }] }), []);
    });
    it('refuses zero quantities, empty ids, tracks without a number and a non-boolean invoice', function () {
      assert.deepStrictEqual(reasons('erp-shipment', { ...good, shipment_id: '', lines: [{ sku: 'A', qty: 0 }], tracks: [{ carrier: 'dhl', title: 'DHL' }], invoice: 'yes' }), [
        '/invoice: must be true or false',
        '/lines/0/qty: must be > 0',
        '/shipment_id: must not be empty',
        '/tracks/0/number: is required',
      ]);
      assert.deepStrictEqual(reasons('erp-shipment', { shipment_id: 1 }), ['/lines: is required', '/order_number: is required']);
    });
  });

  describe('erp-products', function () {
    it('accepts {items:[{sku, name, price, short_description?, description?, weight?, qty?}]}', function () {
      assert.deepStrictEqual(reasons('erp-products', { items: [{ sku: 'NEW-1', name: 'New thing', price: 10, short_description: 'x', description: '<p>y</p>', weight: 1.2, qty: 5 }] }), []);
    });
    it('refuses a blank name and a negative weight', function () {
      assert.deepStrictEqual(reasons('erp-products', { items: [{ sku: 'NEW-1', name: '  ', price: 10, weight: -1 }] }), [
        '/items/0/name: must be a non-blank product name',
        '/items/0/weight: must be >= 0',
      ]);
    });
  });

  describe('erp-order', function () {
    it('accepts the minimal body of the integration guide (only the fields it names)', function () {
      const address = { first_name: 'A', last_name: 'B', company: null, street: 'Main St 1', city: 'Austin', region: null, postcode: null, country: 'US', telephone: null };
      const body = {
        order_number: '100000001',
        customer: { email: 'a@example.com', first_name: 'A', last_name: 'B', customer_id: null, company: null, vat_id: null },
        billing_address: address,
        shipping_address: null,
        items: [{ sku: 'A', name: 'A', qty: 1, price: 1, tax: 0, discount: 0, row_total: 1, product_type: 'simple' }],
        service_lines: [],
        totals: { subtotal: 1, shipping: 0, tax: 0, discount: 0, grand_total: 1 },
        payment: { method: 'checkmo', amount: 1, currency: 'USD' },
        shipping: { method: null, description: null },
        status: 'pending',
        created_at: '2024-05-31T13:45:00Z',
        metadata: { store_id: 1, magento_order_id: 1 },
      };
      assert.deepStrictEqual(reasons('erp-order', body), []);
      body.shipping_address = { ...address, country: 'usa', city: '' };
      body.items[0].qty = 0;
      body.service_lines = [{ type: 'shipping', code: 'flat', description: '', amount: -1, tax: 0 }, { type: 'Gift Card', code: 'GC', description: '', amount: -5, tax: 0 }];
      delete body.customer.vat_id;
      assert.deepStrictEqual(reasons('erp-order', body), [
        '/customer/vat_id: is required',
        '/items/0/qty: must be > 0',
        '/service_lines/0/amount: must be >= 0',
        '/service_lines/1/type: must be a lower-case code such as shipping or cash_on_delivery',
        '/shipping_address/city: must not be empty',
        '/shipping_address/country: must be an ISO 3166-1 alpha-2 country code such as DE',
      ]);
    });

    it('every mapped fixture is valid', function () {
      for (const raw of fixtures.all()) {
        const outcome = mapAndValidateOrder(raw);
        assert.ok(outcome.ok, outcome.ok ? '' : outcome.error.message);
      }
    });
  });

  describe('magento-order', function () {
    it('accepts the fixtures, extra fields included', function () {
      for (const raw of fixtures.all()) assert.deepStrictEqual(reasons('magento-order', { ...raw, some_extension_field: { x: 1 } }), [], raw.increment_id);
    });
    it('refuses what the mapping cannot work with', function () {
      const raw = fixtures.simpleOrder();
      raw.entity_id = '1';
      raw.items = [];
      raw.grand_total = 'lots';
      raw.payment = {};
      assert.deepStrictEqual(reasons('magento-order', raw), ['/entity_id: must be an integer', '/grand_total: must be a number', '/items: must not be empty', '/payment/method: is required']);
    });
  });

  describe('errors', function () {
    it('assertValid throws one ValidationError naming every problem', function () {
      assert.throws(() => assertValid('erp-prices', { items: [{ price: null }] }, { prefix: '/payload', operation: 'prices.push' }), (err) => {
        assert.strictEqual(err.name, 'ValidationError');
        assert.strictEqual(err.errorClass, 'validation');
        assert.strictEqual(err.field, '/payload/items/0/sku');
        assert.strictEqual(err.message, '2 problems: /payload/items/0/sku: is required; /payload/items/0/price: must be a number');
        assert.deepStrictEqual(err.toJSON().details.problems.map((p) => p.field), ['/payload/items/0/sku', '/payload/items/0/price']);
        assert.strictEqual(err.operation, 'prices.push');
        return true;
      });
      assert.doesNotThrow(() => assertValid('erp-stock', { items: [{ sku: 'A', qty: 1 }] }));
    });

    it('a single problem reads like any ValidationError', function () {
      const err = problemsToError([{ field: '/items/0/qty', reason: 'must be a number', keyword: 'type' }]);
      assert.strictEqual(err.message, '/items/0/qty: must be a number');
    });
  });
});
