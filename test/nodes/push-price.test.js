'use strict';
const assert = require('assert');
const { helper, startSandbox, storeConfigNode, collector, recorded, sandboxAvailable } = require('../inventory/node-harness');
const storeConfig = require('../../dist/nodes/store-config/store-config.js');
const completeNode = require('@node-red/nodes/core/common/24-complete.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const pushPrice = require('../../dist/nodes/push-price/push-price.js');

describe('magento-push-price node (against the Magento sandbox)', function () {
  this.timeout(60000);
  let sandbox;

  before(async function () {
    if (!sandboxAvailable()) this.skip();
    sandbox = await startSandbox();
  });
  after(async function () { if (sandbox) await sandbox.close(); });
  beforeEach(function (done) { helper.startServer(done); });
  afterEach(async function () {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
  });

  async function load(pushConfig = {}, storeExtra = {}) {
    const store = storeConfigNode(sandbox, storeExtra);
    const flow = [
      { id: 'push', type: 'magento-push-price', store: 'store', windowMs: 0, stateStore: 'memory', wires: [['out']], ...pushConfig },
      { id: 'out', type: 'helper' },
      { id: 'onComplete', type: 'complete', scope: ['push'], uncaught: false, wires: [['completed']] },
      { id: 'completed', type: 'helper' },
      { id: 'onCatch', type: 'catch', scope: ['push'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ];
    // Catch and complete nodes only see nodes of their own flow (tab).
    for (const n of flow) n.z = 'tab';
    await helper.load([storeConfig, pushPrice, completeNode, catchNode], [store.node, ...flow], { store: store.credentials });
    return {
      push: helper.getNode('push'),
      out: collector(helper.getNode('out')),
      completed: collector(helper.getNode('completed')),
      caught: collector(helper.getNode('caught')),
    };
  }

  it('base prices: Magento\'s per-item failures become rejections (never a silent success); good ones land', async function () {
    const { push, out, completed, caught } = await load();
    push.receive({ payload: { items: [
      { sku: 'BAG/WAYFARER', price: 41.5 },
      { sku: 'NO-SUCH-SKU', price: 10 },
      { sku: 'YOGA BAG 01', price: 12.25, store_id: 1 },
      { sku: 'YOGA BAG 01', price: -1 },
      { sku: 'YOGA BAG 01', price: 'cheap' },
    ] } });
    await completed.until((all) => all.length === 1);
    const results = out.messages.map((m) => m.payload);
    const input = results.find((r) => r.phase === 'input');
    assert.deepStrictEqual(input.items.map((i) => [i.index, i.outcome, i.field]), [[3, 'invalid', 'price'], [4, 'invalid', 'price']]);
    const base = results.find((r) => r.type === 'base');
    assert.strictEqual(base.status, 'partial');
    assert.deepStrictEqual(base.items.map((i) => [i.index, i.sku, i.outcome]), [[0, 'BAG/WAYFARER', 'ok'], [1, 'NO-SUCH-SKU', 'rejected'], [2, 'YOGA BAG 01', 'ok']]);
    assert.match(base.items[1].reason, /NO-SUCH-SKU/);
    assert.strictEqual(sandbox.getPrice('BAG/WAYFARER', 0), 41.5);
    assert.strictEqual(sandbox.getPrice('YOGA BAG 01', 1), 12.25);
    assert.strictEqual(caught.messages.length, 0);
  });

  it('special prices with dates and tier prices by group and quantity, each to its own endpoint', async function () {
    const { push, out, completed } = await load();
    sandbox.clearRequests();
    const mark = 0;
    push.receive({ payload: [
      { sku: '24-MB01', price: 19.99, price_from: '2026-12-01 00:00:00', price_to: '2026-12-24 23:59:59' },
      { sku: '24-MB01', price: 18, customer_group: 'General', quantity: 10 },
      { sku: 'NO-SUCH-SKU', price: 18, customer_group: 'General', quantity: 10 },
      { sku: '24-MB02', price: 9, price_from: '2026-02-30 00:00:00', price_to: '2026-03-01 00:00:00' },
      { sku: '24-MB02', price: 9, type: 'special', price_from: '2026-03-01 00:00:00' },
    ] });
    await completed.until((all) => all.length === 1);
    const results = out.messages.map((m) => m.payload);
    const input = results.find((r) => r.phase === 'input');
    assert.deepStrictEqual(input.items.map((i) => [i.index, i.field]), [[3, 'price_from'], [4, 'price_to']]);
    assert.strictEqual(results.find((r) => r.type === 'special').status, 'ok');
    const tier = results.find((r) => r.type === 'tier');
    assert.strictEqual(tier.status, 'partial');
    assert.strictEqual(tier.items.find((i) => i.sku === 'NO-SUCH-SKU').outcome, 'rejected');
    const paths = recorded(sandbox).slice(mark).map((r) => r.path);
    assert.ok(paths.some((p) => /\/V1\/products\/special-price$/.test(p)));
    assert.ok(paths.some((p) => /\/V1\/products\/tier-prices$/.test(p)));
  });

  it('coalesces per SKU and store view and batches to the input limit', async function () {
    const { push, out, completed } = await load({ windowMs: 600000 });
    const skus = ['24-MB01', '24-MB02', '24-MB03', 'BAG/WAYFARER', '24-MB05', '24-MB06', '24-MB07', 'YOGA BAG 01', '24-MB09', '24-MB10', '24-MB11', 'MB-DRIVEN/2'];
    for (let round = 1; round <= 5; round++) {
      push.receive({ payload: skus.flatMap((sku) => [{ sku, price: round, store_id: 0 }, { sku, price: round + 0.5, store_id: 1 }]) });
    }
    sandbox.clearRequests();
    const mark = 0;
    push.receive({ flush: true });
    await completed.until((all) => all.length === 6);
    const posts = recorded(sandbox).slice(mark).filter((r) => /\/V1\/products\/base-prices$/.test(r.path));
    assert.strictEqual(posts.length, 2, '24 coalesced prices in batches of 20');
    const sends = out.messages.map((m) => m.payload).filter((r) => r.phase === 'send');
    assert.strictEqual(sends.reduce((n, r) => n + r.counts.superseded, 0), 96);
    assert.strictEqual(sandbox.getPrice('MB-DRIVEN/2', 1), 5.5);
    assert.strictEqual(sandbox.getPrice('24-MB01', 0), 5);
  });
});
