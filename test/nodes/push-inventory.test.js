'use strict';
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { helper, startSandbox, storeConfigNode, collector, recorded, sandboxAvailable } = require('../inventory/node-harness');
const storeConfig = require('../../dist/nodes/store-config/store-config.js');
const completeNode = require('@node-red/nodes/core/common/24-complete.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const pushInventory = require('../../dist/nodes/push-inventory/push-inventory.js');

const STOCK_PUSH = (r) => r.method === 'POST' && /\/V1\/inventory\/source-items$/.test(r.path) && !/\/async\//.test(r.path);

describe('magento-push-inventory node (against the Magento sandbox)', function () {
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
    if (sandbox) { sandbox.setFaults({}); sandbox.setConsumers(true); }
  });

  /** Loads store + push node + result collector + complete/catch collectors. */
  async function load(pushConfig = {}, storeExtra = {}) {
    const store = storeConfigNode(sandbox, storeExtra);
    const flow = [
      store.node,
      { id: 'push', type: 'magento-push-inventory', store: 'store', mode: 'msi', defaultSource: 'default', warehouses: [{ warehouse: 'EAST', source: 'warehouse_east' }],
        checkSources: true, checkSkus: true, windowMs: 0, stateStore: 'memory', wires: [['out']], ...pushConfig },
      { id: 'out', type: 'helper' },
      { id: 'onComplete', type: 'complete', scope: ['push'], uncaught: false, wires: [['completed']] },
      { id: 'completed', type: 'helper' },
      { id: 'onCatch', type: 'catch', scope: ['push'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ];
    // Catch and complete nodes only see nodes of their own flow (tab).
    for (const n of flow) if (n !== store.node) n.z = 'tab';
    await helper.load([storeConfig, pushInventory, completeNode, catchNode], flow, { store: store.credentials });
    return {
      push: helper.getNode('push'),
      client: helper.getNode('store').client,
      out: collector(helper.getNode('out')),
      completed: collector(helper.getNode('completed')),
      caught: collector(helper.getNode('caught')),
    };
  }

  async function createProducts(client, skus) {
    const missing = [];
    for (const sku of skus) if (!sandbox.getProduct || !sandbox.getProduct(sku)) missing.push(sku);
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < missing.length) {
        const sku = missing[next++];
        await client.request({ method: 'POST', path: '/products', body: { product: { sku, name: `Stock test ${sku}`, price: 10, status: 1, type_id: 'simple', attribute_set_id: 4, visibility: 4 } } });
      }
    }));
  }


  it('10,000 updates for 2,000 SKUs: coalesced to 2,000, 100 batches of 20, final quantities land', async function () {
    const { push, client, out, completed, caught } = await load({ windowMs: 600000 });
    const skus = Array.from({ length: 2000 }, (_, k) => `STK-${String(k).padStart(4, '0')}`);
    await createProducts(client, skus);
    sandbox.clearRequests();
    const before = 0;
    for (let m = 0; m < 10; m++) {
      const payload = [];
      for (let j = m * 1000; j < (m + 1) * 1000; j++) payload.push({ sku: skus[j % 2000], qty: j });
      push.receive({ payload });
    }
    push.receive({ flush: true });
    await completed.until((all) => all.length === 11, 'every input message to complete');
    const results = out.messages.map((m) => m.payload);
    const sends = results.filter((r) => r.phase === 'send');
    assert.strictEqual(sends.length, 100);
    assert.ok(sends.every((r) => r.status === 'ok' && r.items.length === 20));
    assert.strictEqual(sends.reduce((n, r) => n + r.counts.ok, 0), 2000);
    assert.strictEqual(sends.reduce((n, r) => n + r.counts.superseded, 0), 8000);
    const calls = recorded(sandbox).slice(before);
    assert.strictEqual(calls.filter(STOCK_PUSH).length, 100, '100 source-items calls');
    const lookups = calls.filter((r) => r.method === 'GET' && /\/V1\/products$/.test(r.path)).length;
    assert.ok(lookups >= 7 && lookups <= 10, `SKU look-ups in pages of up to 300 (${lookups})`);
    assert.strictEqual(calls.length, 100 + lookups + calls.filter((r) => /inventory\/sources/.test(r.path)).length);
    for (const k of [0, 1, 999, 1999]) assert.strictEqual(sandbox.getSourceItem(skus[k], 'default').quantity, 8000 + k);
    assert.strictEqual(caught.messages.length, 0);
  });

  it('mixed good and bad items: invalid by index and reason, unknown SKU rejected, the good ones land', async function () {
    const { push, out, completed } = await load();
    push.receive({ payload: [
      { sku: 'BAG/WAYFARER', qty: 11 },
      { sku: 'YOGA BAG 01', qty: 12, warehouse: 'EAST' },
      { sku: 'NO-SUCH-SKU', qty: 1 },
      { sku: '', qty: 1 },
      { sku: 'BAG/WAYFARER', qty: -4 },
      { sku: 'BAG/WAYFARER', qty: 'lots' },
      { sku: 'BAG/WAYFARER', qty: 1, source: 'moon_base' },
      { sku: 'BAG/WAYFARER', qty: 1, warehouse: 'NORTH' },
    ] });
    await completed.until((all) => all.length === 1);
    const results = out.messages.map((m) => m.payload);
    const input = results.find((r) => r.phase === 'input');
    assert.strictEqual(input.status, 'failed');
    assert.deepStrictEqual(input.items.map((i) => [i.index, i.outcome, i.field]), [
      [3, 'invalid', 'sku'], [4, 'invalid', 'qty'], [5, 'invalid', 'qty'], [6, 'invalid', 'source'], [7, 'invalid', 'warehouse'],
    ]);
    const check = results.find((r) => r.phase === 'check');
    assert.deepStrictEqual(check.items.map((i) => [i.index, i.sku, i.outcome]), [[2, 'NO-SUCH-SKU', 'rejected']]);
    const send = results.find((r) => r.phase === 'send');
    assert.strictEqual(send.status, 'ok');
    assert.strictEqual(sandbox.getSourceItem('BAG/WAYFARER', 'default').quantity, 11);
    assert.strictEqual(sandbox.getSourceItem('YOGA BAG 01', 'warehouse_east').quantity, 12);
    assert.strictEqual(sandbox.getSourceItem('YOGA BAG 01', 'warehouse_east').status, 1);
  });

  it('bisects a batch Magento refuses as a whole and names the bad SKU (look-up off)', async function () {
    const { push, out, completed } = await load({ checkSkus: false, checkSources: false });
    const payload = ['BAG/WAYFARER', 'YOGA BAG 01', 'MB-DRIVEN/2', 'NO-SUCH-SKU', '24-MB01'].map((sku, i) => ({ sku, qty: 30 + i }));
    payload.push({ sku: '24-MB02', qty: 5, source: 'not_a_source' });
    sandbox.clearRequests();
    const mark = 0;
    push.receive({ payload });
    await completed.until((all) => all.length === 1);
    const send = out.messages.map((m) => m.payload).find((r) => r.phase === 'send');
    assert.strictEqual(send.status, 'partial');
    const bad = send.items.filter((i) => i.outcome === 'rejected').map((i) => [i.index, i.sku]);
    assert.deepStrictEqual(bad, [[3, 'NO-SUCH-SKU'], [5, '24-MB02']]);
    assert.strictEqual(send.counts.ok, 4);
    assert.ok(send.calls > 1 && recorded(sandbox).slice(mark).filter(STOCK_PUSH).length === send.calls);
    assert.strictEqual(sandbox.getSourceItem('MB-DRIVEN/2', 'default').quantity, 32);
    assert.strictEqual(sandbox.getSourceItem('24-MB01', 'default').quantity, 34);
  });

  it('drops an update older than the one applied (stale), applies a newer one', async function () {
    const { push, out, completed } = await load();
    push.receive({ payload: { sku: '24-MB01', qty: 50, timestamp: '2026-01-01 10:00:00' } });
    await completed.until((all) => all.length === 1);
    push.receive({ payload: [{ sku: '24-MB01', qty: 7, timestamp: '2026-01-01 09:59:59' }] });
    await completed.until((all) => all.length === 2);
    const stale = out.messages.map((m) => m.payload).find((r) => r.phase === 'input');
    assert.strictEqual(stale.status, 'ok');
    assert.strictEqual(stale.items[0].outcome, 'stale');
    assert.match(stale.items[0].reason, /older than the update already applied/);
    assert.strictEqual(sandbox.getSourceItem('24-MB01', 'default').quantity, 50);
    push.receive({ payload: [{ sku: '24-MB01', qty: 8, timestamp: '2026-01-01 10:00:01' }] });
    await completed.until((all) => all.length === 3);
    assert.strictEqual(sandbox.getSourceItem('24-MB01', 'default').quantity, 8);
  });

  it('remembers the last applied timestamp across a restart (SQLite state store in the user directory)', async function () {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'push-inventory-'));
    helper.settings({ userDir });
    try {
      let run = await load({ stateStore: 'sqlite' });
      run.push.receive({ payload: { sku: '24-MB05', qty: 70, timestamp: 1767261600000 } });
      await run.completed.until((all) => all.length === 1);
      await helper.unload();
      run = await load({ stateStore: 'sqlite' });
      run.push.receive({ payload: { sku: '24-MB05', qty: 3, timestamp: 1767261599000 } });
      await run.completed.until((all) => all.length === 1);
      assert.strictEqual(run.out.messages[0].payload.items[0].outcome, 'stale');
      assert.strictEqual(sandbox.getSourceItem('24-MB05', 'default').quantity, 70);
      assert.ok(fs.existsSync(path.join(userDir, 'magento-erp', 'push-timestamps.sqlite')));
    } finally {
      helper.settings({});
      await helper.unload();
      fs.rmSync(userDir, { recursive: true, force: true });
    }
  });

  it('splits on "Maximum items" and remembers the store\'s limit', async function () {
    const { push, out, completed } = await load({ checkSkus: false }, { maxItemsPerRequest: '50' });
    const skus = ['24-MB01', '24-MB02', '24-MB03', 'BAG/WAYFARER', '24-MB05', '24-MB06', '24-MB07', 'YOGA BAG 01', '24-MB09', '24-MB10', '24-MB11', 'MB-DRIVEN/2'];
    const payload = [];
    for (const sku of skus) for (const source of ['default', 'warehouse_east']) payload.push({ sku, qty: 3, source });
    sandbox.clearRequests();
    const mark = 0;
    push.receive({ payload });
    await completed.until((all) => all.length === 1);
    const sizes = recorded(sandbox).slice(mark).filter(STOCK_PUSH).map((r) => r.status);
    assert.deepStrictEqual(sizes.slice(0, 1), [400], 'the 24-item batch is refused once');
    assert.ok(out.messages.every((m) => m.payload.status === 'ok'));
    sandbox.clearRequests();
    const mark2 = 0;
    push.receive({ payload: payload.map((p) => ({ ...p, qty: 4 })) });
    await completed.until((all) => all.length === 2);
    const second = recorded(sandbox).slice(mark2).filter(STOCK_PUSH);
    assert.ok(second.every((r) => r.status === 200), 'no refusal once the limit is known');
    assert.strictEqual(second.length, 2);
  });

  it('a store failure ends the message with done(err): msg.failure typed, msg.payload exactly the items to retry', async function () {
    const { push, out, caught } = await load({ checkSkus: false, checkSources: false });
    sandbox.setFaults({ rate503: 1, route: '/V1/inventory/source-items' });
    push.receive({ payload: [{ sku: '24-MB01', qty: 1 }, { sku: 'x', qty: 'bad' }, { sku: '24-MB02', qty: 2 }] });
    const [err] = await caught.until((all) => all.length === 1);
    assert.strictEqual(err.failure.errorClass, 'transient');
    assert.strictEqual(err.failure.status, 503);
    assert.deepStrictEqual(err.payload, [{ sku: '24-MB01', qty: 1 }, { sku: '24-MB02', qty: 2 }]);
    const send = out.messages.map((m) => m.payload).find((r) => r.phase === 'send');
    assert.strictEqual(send.status, 'failed');
  });

  it('async bulk: follows detailed-status to the last operation', async function () {
    const { push, out, completed } = await load({ mode: 'bulk', bulkPollMs: 20, bulkDeadlineMs: 20000 });
    sandbox.clearRequests();
    const mark = 0;
    push.receive({ payload: [{ sku: '24-MB03', qty: 61 }, { sku: 'BAG/WAYFARER', qty: 62, source: 'warehouse_west' }, { sku: 'NO-SUCH-SKU', qty: 1 }] });
    await completed.until((all) => all.length === 1);
    const send = out.messages.map((m) => m.payload).find((r) => r.phase === 'send');
    assert.strictEqual(send.status, 'ok');
    assert.ok(send.bulkUuid);
    assert.strictEqual(sandbox.getSourceItem('24-MB03', 'default').quantity, 61);
    assert.strictEqual(sandbox.getSourceItem('BAG/WAYFARER', 'warehouse_west').quantity, 62);
    const calls = recorded(sandbox).slice(mark);
    assert.strictEqual(calls.filter((r) => /\/async\/bulk\/V1\/inventory\/source-items$/.test(r.path)).length, 1);
    assert.ok(calls.some((r) => /\/V1\/bulk\/.+\/detailed-status$/.test(r.path)));
  });

  it('async bulk: 10,000 updates for 2,000 SKUs in 10 messages → one round, 2 bulks of 1,000, a few status polls, latest lands', async function () {
    const { push, client, out, completed, caught } = await load({ mode: 'bulk', windowMs: 600000, bulkPollMs: 100, bulkDeadlineMs: 20000 }, { maxBulkItems: '1000' });
    const skus = Array.from({ length: 2000 }, (_, k) => `STK-${String(k).padStart(4, '0')}`);
    await createProducts(client, skus);
    sandbox.clearRequests();
    for (let m = 0; m < 10; m++) {
      const payload = [];
      for (let j = m * 1000; j < (m + 1) * 1000; j++) payload.push({ sku: skus[(j * 7) % 2000], qty: 20000 + j });
      push.receive({ payload });
    }
    push.receive({ flush: true });
    await completed.until((all) => all.length === 11, 'every input message to complete');
    assert.strictEqual(caught.messages.length, 0);
    const sends = out.messages.map((m) => m.payload).filter((r) => r.phase === 'send');
    assert.strictEqual(sends.reduce((n, r) => n + r.counts.ok, 0), 2000);
    assert.strictEqual(sends.reduce((n, r) => n + r.counts.superseded, 0), 8000);
    const calls = recorded(sandbox);
    const bulks = calls.filter((r) => r.method === 'POST' && /\/async\/bulk\/V1\/inventory\/source-items$/.test(r.path));
    assert.strictEqual(bulks.length, 2, 'one bulk per 1,000 SKU+source (the store config\'s Bulk items)');
    const polls = calls.filter((r) => /\/V1\/bulk\/[^/]+\/detailed-status$/.test(r.path));
    const uuids = new Set(sends.map((r) => r.bulkUuid));
    assert.strictEqual(uuids.size, 2);
    for (const uuid of uuids) {
      const mine = polls.filter((r) => r.path.includes(uuid)).length;
      // 100 ms, then 200, 400, 800 ms…: a consumer that keeps up is seen complete within a few polls.
      assert.ok(mine >= 1 && mine <= 8, `${mine} status polls for bulk ${uuid}`);
    }
    const lookups = calls.filter((r) => r.method === 'GET' && /\/V1\/products$/.test(r.path)).length;
    assert.ok(lookups >= 7 && lookups <= 10, `SKU look-ups in pages of up to 300 (${lookups})`);
    assert.strictEqual(calls.length, bulks.length + polls.length + lookups + calls.filter((r) => /inventory\/sources/.test(r.path)).length);
    // The latest update per SKU wins: SKU (j * 7) % 2000 was last sent by the highest such j.
    const latest = new Map();
    for (let j = 0; j < 10000; j++) latest.set(skus[(j * 7) % 2000], 20000 + j);
    for (const sku of [skus[0], skus[7], skus[1999], skus[1234]]) assert.strictEqual(sandbox.getSourceItem(sku, 'default').quantity, latest.get(sku), sku);
  });

  it('async bulk with the queue consumers off: the deadline result says so and the items go to retry', async function () {
    const { push, out, caught } = await load({ mode: 'bulk', bulkPollMs: 20, bulkDeadlineMs: 300, checkSkus: false });
    sandbox.setConsumers(false);
    try {
      push.receive({ payload: [{ sku: '24-MB04', qty: 9 }] });
      const [err] = await caught.until((all) => all.length === 1);
      assert.strictEqual(err.failure.errorClass, 'transient');
      assert.match(err.failure.message, /queue consumers are not running/);
      const send = out.messages.map((m) => m.payload).find((r) => r.phase === 'send');
      assert.strictEqual(send.consumers, 'not-running');
      assert.strictEqual(send.status, 'failed');
    } finally {
      sandbox.setConsumers(true);
    }
  });

  it('legacy (non-MSI) mode: one PUT per SKU, SKUs with / and spaces encoded', async function () {
    const { push, out, completed } = await load({ mode: 'legacy' });
    sandbox.clearRequests();
    const mark = 0;
    push.receive({ payload: [{ sku: 'BAG/WAYFARER', qty: 5 }, { sku: 'YOGA BAG 01', qty: 0 }, { sku: 'NO-SUCH-SKU', qty: 1 }] });
    await completed.until((all) => all.length === 1);
    const send = out.messages.map((m) => m.payload).find((r) => r.phase === 'send');
    assert.strictEqual(send.status, 'partial');
    assert.deepStrictEqual(send.items.map((i) => i.outcome), ['ok', 'ok', 'rejected']);
    const puts = recorded(sandbox).slice(mark).filter((r) => r.method === 'PUT');
    assert.strictEqual(puts.length, 2);
    assert.ok(puts.some((r) => r.path.includes('/V1/products/BAG%2FWAYFARER/stockItems/')));
    assert.ok(puts.some((r) => r.path.includes('/V1/products/YOGA%20BAG%2001/stockItems/')));
    assert.strictEqual(sandbox.getSourceItem('BAG/WAYFARER', 'default').quantity, 5);
    assert.strictEqual(sandbox.getSourceItem('YOGA BAG 01', 'default').status, 0);
  });

  it('a setting that is not a number refuses the configuration: red status, the field named, every message fails with it', async function () {
    const { push, out, caught } = await load({ batchSize: 'twenty', bulkPollMs: '-5' });
    const errors = helper.log().args.map((a) => a[0]).filter((e) => e.id === 'push' && e.level === helper.log().ERROR);
    // (The test runtime has no message catalogs: the catalog key stands for the text.)
    assert.ok(errors.some((e) => /errors\.config|cannot start with this configuration/.test(e.msg)), `the refusal is logged against the node: ${JSON.stringify(errors)}`);
    push.receive({ payload: [{ sku: 'BAG/WAYFARER', qty: 1 }] });
    await caught.until((all) => all.length === 1, 'the message to fail');
    const msg = caught.messages[0];
    assert.strictEqual(msg.failure.field, 'batchSize');
    assert.match(msg.error.message, /batchSize: must be a whole number of at least 0 \(got "twenty"\)/);
    assert.strictEqual(out.messages.length, 0);
  });
});
