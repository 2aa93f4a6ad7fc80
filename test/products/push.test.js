'use strict';
const assert = require('assert');
const { fakeClient } = require('../inventory/fake-client');
const { MagentoError } = require('../../dist/lib/magento/errors');
const { IntegrationError } = require('../../dist/lib/errors');
const { ProductPush, changedFields, resultError, validateProduct, productItemsOf } = require('../../dist/lib/products');

const notFound = () => new IntegrationError('not-found', "The product that was requested doesn't exist.", { status: 404 });

describe('products core', () => {
  it('changedFields compares only what the ERP sent, numbers with Magento\'s precision, texts with absent = empty', () => {
    const existing = { name: 'Bag', price: '10.000000', weight: 1, custom_attributes: [{ attribute_code: 'description', value: 'Long' }] };
    assert.deepStrictEqual(changedFields({ sku: 'A', name: 'Bag', price: 10 }, existing), []);
    assert.deepStrictEqual(changedFields({ sku: 'A', name: 'Bag', price: 10.01, description: 'Long', short_description: '' }, existing), ['price']);
    assert.deepStrictEqual(changedFields({ sku: 'A', name: 'Bag 2', price: 10, weight: 2, short_description: 'x' }, existing), ['name', 'weight', 'short_description']);
  });

  it('accepts one item, a list, or {items}', () => {
    assert.strictEqual(productItemsOf({ sku: 'A' }).length, 1);
    assert.strictEqual(productItemsOf([{}, {}]).length, 2);
    assert.strictEqual(productItemsOf({ items: [{}] }).length, 1);
    assert.throws(() => productItemsOf({ items: [] }), /payload.items: must be a non-empty list/);
    assert.throws(() => productItemsOf(5), /payload: must be a product/);
  });

  it('validates one item naming items[i].field', () => {
    assert.throws(() => validateProduct({ sku: 'A', name: 'N', price: 'x' }, 3), (e) => e.field === 'items[3].price');
    assert.throws(() => validateProduct({ sku: 'x'.repeat(65), name: 'N', price: 1 }, 0), (e) => e.field === 'items[0].sku');
    assert.deepStrictEqual(validateProduct({ sku: 'A', name: ' N ', price: '2.5', qty: 0 }, 0), { sku: 'A', name: 'N', price: 2.5, qty: 0 });
  });

  it('creates again with a name-and-SKU url key when Magento says the url key exists', async () => {
    let posts = 0;
    const client = fakeClient((req) => {
      if (req.method === 'GET') throw notFound();
      if (req.method === 'POST') {
        posts++;
        const attrs = req.body.product.custom_attributes || [];
        if (!attrs.some((a) => a.attribute_code === 'url_key')) {
          throw new MagentoError('validation', 'failed', { status: 400, magentoMessage: 'URL key for specified store already exists.' });
        }
        assert.deepStrictEqual(attrs.find((a) => a.attribute_code === 'url_key'), { attribute_code: 'url_key', value: 'cafe-mug-mug-1-blue' });
        return { id: 77, status: 2 };
      }
      throw new Error('unexpected');
    });
    const result = await new ProductPush(client).push({ sku: 'MUG/1 BLUE', name: 'Café Mug', price: 3 });
    assert.strictEqual(posts, 2);
    assert.deepStrictEqual(result.items, [{ index: 0, sku: 'MUG/1 BLUE', outcome: 'created', status: 2, id: 77 }]);
    assert.strictEqual(client.calls[0].path, '/products/MUG%2F1%20BLUE');
    assert.strictEqual(client.calls[0].storeCode, 'all');
  });

  it('one SKU twice in a payload is applied in order (create, then update)', async () => {
    const store = new Map();
    const client = fakeClient((req) => {
      const sku = decodeURIComponent((req.path.split('/products/')[1] || ''));
      if (req.method === 'GET') { if (!store.has(sku)) throw notFound(); return store.get(sku); }
      if (req.method === 'POST') { store.set(req.body.product.sku, { id: 1, ...req.body.product }); return { id: 1, status: 2 }; }
      if (req.method === 'PUT') { Object.assign(store.get(sku), req.body.product); return store.get(sku); }
      throw new Error('unexpected');
    });
    const result = await new ProductPush(client, { concurrency: 4 }).push([{ sku: 'D', name: 'One', price: 1 }, { sku: 'D', name: 'Two', price: 1 }]);
    assert.deepStrictEqual(result.items.map((i) => i.outcome), ['created', 'updated']);
    assert.deepStrictEqual(result.items[1].changed, ['name']);
    assert.strictEqual(store.get('D').name, 'Two');
  });

  it('resultError: failed items first (transient wins), else invalid items as validation', () => {
    const base = { storeCode: 'all', counts: { total: 3 } };
    const e1 = resultError({ ...base, items: [
      { index: 0, outcome: 'invalid', field: 'items[0].price', reason: 'bad' },
      { index: 1, outcome: 'failed', errorClass: 'permanent', reason: 'no' },
      { index: 2, outcome: 'failed', errorClass: 'transient', reason: '503' },
    ] });
    assert.strictEqual(e1.error.errorClass, 'transient');
    assert.deepStrictEqual(e1.indexes, [1, 2]);
    const e2 = resultError({ ...base, items: [{ index: 0, outcome: 'invalid', field: 'items[0].price', reason: 'bad' }, { index: 1, outcome: 'created' }] });
    assert.strictEqual(e2.error.errorClass, 'validation');
    assert.strictEqual(e2.error.field, 'items[0].price');
    assert.deepStrictEqual(e2.indexes, [0]);
    assert.strictEqual(resultError({ ...base, items: [{ index: 0, outcome: 'unchanged' }] }), undefined);
  });

  it('refuses bad options by name', () => {
    const client = fakeClient(() => undefined);
    assert.throws(() => new ProductPush(client, { visibility: 7 }), (e) => e.field === 'visibility');
    assert.throws(() => new ProductPush(client, { attributeSetId: 0 }), (e) => e.field === 'attributeSetId');
    // Concurrency was clamped silently before (0 → 1, 2.5 → 2): now refused like the other options.
    for (const concurrency of [0, 2.5, -1, 'many']) {
      assert.throws(() => new ProductPush(client, { concurrency }), (e) => e.field === 'concurrency' && /whole number of 1 or more/.test(e.message));
    }
    assert.doesNotThrow(() => new ProductPush(client, { concurrency: 1 }));
  });
});
