'use strict';
const assert = require('assert');
const { helper, startSandbox, storeConfigNode, recorded, sandboxAvailable } = require('../inventory/node-harness');
const storeConfig = require('../../dist/nodes/store-config/store-config.js');
const pushProduct = require('../../dist/nodes/push-product/push-product.js');

describe('magento-push-product node (against the Magento sandbox)', function () {
  this.timeout(60000);
  let sandbox;

  before(async function () {
    if (!sandboxAvailable()) this.skip();
    sandbox = await startSandbox({ orders: 1 });
  });
  after(async function () { if (sandbox) await sandbox.close(); });
  beforeEach(function (done) { sandbox.reset(); helper.startServer(done); });
  afterEach(async function () {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
  });

  async function load(nodeConfig = {}) {
    const store = storeConfigNode(sandbox);
    await helper.load([storeConfig, pushProduct], [
      store.node,
      { id: 'push', type: 'magento-push-product', store: 'store', wires: [['out']], ...nodeConfig },
      { id: 'out', type: 'helper' },
    ], { store: store.credentials });
    const node = helper.getNode('push');
    const out = helper.getNode('out');
    /**
     * Resolves with {result, failed}: the result message and, when the node ended the input with done(err),
     * that message. The node always sends the result before done(err), except when the payload itself is
     * refused (then there is no result). Node-RED reports done(err) at once and delivers sends a turn later.
     */
    function send(payload) {
      return new Promise((resolve) => {
        let failed;
        const cleanup = () => { out.removeListener('input', onOut); node.removeListener('call:error', onError); };
        const onOut = (result) => { cleanup(); resolve({ result, failed }); };
        const onError = (call) => {
          failed = call.args[1];
          if (failed.failure && failed.failure.field === 'payload') { cleanup(); resolve({ failed }); }
        };
        out.on('input', onOut);
        node.on('call:error', onError);
        node.receive({ payload });
      });
    }
    return { node, send };
  }

  const sku = (s) => sandbox.getProduct(s);
  const writes = (filter = () => true) => recorded(sandbox, (r) => (r.method === 'POST' || r.method === 'PUT') && r.path.includes('/V1/products') && filter(r));

  it('creates a new product DISABLED from the ERP core data, through the store code all, SKU with "/" and spaces encoded', async function () {
    const { send } = await load();
    const { result, failed } = await send({ items: [{ sku: 'ERP/NEW 1', name: 'Trail Flask 1 L', price: 24.5, short_description: 'Light', description: '<p>Steel flask</p>', weight: 0.4, qty: 12 }] });
    assert.strictEqual(failed, undefined);
    const r = result.payload;
    assert.strictEqual(r.status, 'ok');
    assert.deepStrictEqual(r.counts, { total: 1, created: 1, updated: 0, unchanged: 0, invalid: 0, failed: 0 });
    assert.strictEqual(r.items[0].outcome, 'created');
    assert.strictEqual(r.items[0].status, 2);
    assert.ok(r.items[0].id > 0);
    const p = sku('ERP/NEW 1');
    assert.strictEqual(p.status, 2);
    assert.strictEqual(p.visibility, 4);
    assert.strictEqual(p.type_id, 'simple');
    assert.strictEqual(p.attribute_set_id, 4);
    assert.strictEqual(p.price, 24.5);
    assert.strictEqual(p.weight, 0.4);
    assert.strictEqual(p.custom_attributes.find((a) => a.attribute_code === 'description').value, '<p>Steel flask</p>');
    assert.strictEqual(p.extension_attributes.stock_item.qty, 12);
    const get = recorded(sandbox, (x) => x.method === 'GET' && x.path.includes('/V1/products/'));
    assert.deepStrictEqual(get.map((x) => x.path), ['/rest/all/V1/products/ERP%2FNEW%201']);
    assert.deepStrictEqual(writes().map((x) => `${x.method} ${x.path}`), ['POST /rest/all/V1/products']);
  });

  it('updates only the changed core fields; status, visibility, categories and url key stay as the shop team left them', async function () {
    const { send } = await load();
    const before = sku('YOGA BAG 01');
    assert.strictEqual(before.status, 1);
    const { result } = await send({ sku: 'YOGA BAG 01', name: 'Voyage Yoga Bag 2.0', price: before.price, weight: 2.1 });
    const item = result.payload.items[0];
    assert.strictEqual(item.outcome, 'updated');
    assert.deepStrictEqual(item.changed, ['name', 'weight']);
    const after = sku('YOGA BAG 01');
    assert.strictEqual(after.name, 'Voyage Yoga Bag 2.0');
    assert.strictEqual(after.weight, 2.1);
    assert.strictEqual(after.status, 1);
    assert.strictEqual(after.visibility, before.visibility);
    assert.deepStrictEqual(after.extension_attributes.category_links, before.extension_attributes.category_links);
    assert.deepStrictEqual(after.extension_attributes.website_ids, before.extension_attributes.website_ids);
    assert.strictEqual(after.custom_attributes.find((a) => a.attribute_code === 'url_key').value, 'voyage-yoga-bag');
    const put = writes();
    assert.deepStrictEqual(put.map((x) => `${x.method} ${x.path}`), ['PUT /rest/all/V1/products/YOGA%20BAG%2001']);
  });

  it('a product the shop team enabled stays enabled when the ERP updates it', async function () {
    const { send } = await load();
    await send({ sku: 'ERP-ENABLE-1', name: 'Cork Mat', price: 30 });
    assert.strictEqual(sku('ERP-ENABLE-1').status, 2);
    // A person finishes the product in Magento and enables it.
    const { createMagentoClient } = require('../../dist/lib/magento/client.js');
    const client = createMagentoClient({ name: 'sb', baseUrl: sandbox.url, storeCode: 'all', auth: { type: 'bearer', token: sandbox.credentials.bearerToken } });
    await client.request({ method: 'PUT', path: '/products/ERP-ENABLE-1', body: { product: { sku: 'ERP-ENABLE-1', status: 1, visibility: 2 } } });
    client.close();
    const { result } = await send({ sku: 'ERP-ENABLE-1', name: 'Cork Mat', price: 32 });
    assert.deepStrictEqual(result.payload.items[0].changed, ['price']);
    const p = sku('ERP-ENABLE-1');
    assert.strictEqual(p.status, 1);
    assert.strictEqual(p.visibility, 2);
    assert.strictEqual(p.price, 32);
  });

  it('the same data again is unchanged: no write at all', async function () {
    const { send } = await load();
    const item = { sku: 'ERP/SAME 2', name: 'Same Thing', price: 10, weight: 1, description: 'd', short_description: 's' };
    await send([item]);
    sandbox.clearRequests();
    const { result, failed } = await send([{ ...item, price: 10.0 }]);
    assert.strictEqual(failed, undefined);
    assert.strictEqual(result.payload.items[0].outcome, 'unchanged');
    assert.strictEqual(result.payload.status, 'ok');
    assert.strictEqual(writes().length, 0);
  });

  it('mixed good and bad items: bad ones reported by index and field, good ones land; done(err) carries only the bad items', async function () {
    const { send } = await load();
    const { result, failed } = await send({ items: [
      { sku: 'ERP-MIX-1', name: 'Good One', price: 5 },
      { sku: 'ERP-MIX-2', name: 'Bad Price', price: -3 },
      { sku: ' ERP-MIX-3', name: 'Bad SKU', price: 1 },
      { sku: 'ERP-MIX-4', price: 1 },
    ] });
    assert.strictEqual(result.payload.status, 'partial');
    assert.deepStrictEqual(result.payload.items.map((i) => [i.index, i.outcome, i.field]), [
      [0, 'created', undefined], [1, 'invalid', 'items[1].price'], [2, 'invalid', 'items[2].sku'], [3, 'invalid', 'items[3].name'],
    ]);
    assert.ok(sku('ERP-MIX-1'));
    assert.strictEqual(sku('ERP-MIX-2'), undefined);
    assert.strictEqual(failed.failure.errorClass, 'validation');
    assert.strictEqual(failed.failure.field, 'items[1].price');
    assert.deepStrictEqual(failed.payload.items.map((i) => i.sku), ['ERP-MIX-2', ' ERP-MIX-3', 'ERP-MIX-4']);
  });

  it('a transient Magento failure fails only its item, as a retryable error; the retry creates it once', async function () {
    const { send } = await load();
    sandbox.setFaults({ next: [{ count: 1, fault: 503, route: 'V1/products', method: 'POST' }] });
    const first = await send({ items: [{ sku: 'ERP-T-1', name: 'First', price: 1 }] });
    sandbox.setFaults({});
    assert.strictEqual(first.result.payload.items[0].outcome, 'failed');
    assert.strictEqual(first.result.payload.items[0].errorClass, 'transient');
    assert.strictEqual(first.failed.failure.errorClass, 'transient');
    const retry = await send(first.failed.payload);
    assert.strictEqual(retry.failed, undefined);
    assert.strictEqual(retry.result.payload.items[0].outcome, 'created');
    assert.strictEqual(sku('ERP-T-1').status, 2);
  });

  it('options: created enabled with another visibility and attribute set', async function () {
    const { send } = await load({ createEnabled: true, visibility: '1', attributeSetId: 9 });
    await send({ sku: 'ERP-OPT-1', name: 'Opt', price: 3 });
    const p = sku('ERP-OPT-1');
    assert.strictEqual(p.status, 1);
    assert.strictEqual(p.visibility, 1);
    assert.strictEqual(p.attribute_set_id, 9);
  });

  it('a payload that is not a product list is refused at once', async function () {
    const { send } = await load();
    sandbox.clearRequests();
    const { failed } = await send('nope');
    assert.strictEqual(failed.failure.errorClass, 'validation');
    assert.strictEqual(failed.failure.field, 'payload');
    assert.strictEqual(recorded(sandbox).length, 0);
  });
  it('a concurrency or attribute set that is not a whole number in range refuses the configuration, naming the field', async function () {
    for (const [config, field] of [[{ concurrency: 'many' }, 'concurrency'], [{ attributeSetId: '0' }, 'attributeSetId']]) {
      const { node, send } = await load(config);
      const logged = helper.log().args.map((a) => a[0]).filter((e) => e.id === 'push' && e.level === helper.log().ERROR);
      assert.strictEqual(logged.length, 1, JSON.stringify(logged));
      sandbox.clearRequests();
      // Every message fails with the configuration error, so Catch nodes see it; nothing reaches Magento.
      const failed = await new Promise((resolve) => {
        // (the helper reports the constructor's own node.error as a call too: wait for the message's)
        const onError = (call) => {
          if (call.args[1] && call.args[1].failure) { node.removeListener('call:error', onError); resolve(call.args[1]); }
        };
        node.on('call:error', onError);
        node.receive({ payload: { sku: 'ERP-CFG-1', name: 'Cfg', price: 1 } });
      });
      assert.strictEqual(failed.failure.field, field);
      assert.strictEqual(failed.failure.errorClass, 'validation');
      assert.strictEqual(recorded(sandbox).length, 0);
      void send;
      await helper.unload();
    }
  });
});
