'use strict';
const assert = require('assert');
const { InventoryPush, validateStockUpdate } = require('../../dist/lib/inventory');
const { fakeClient, httpError } = require('./fake-client');

/** A store with MSI sources `default` and `eu`, products p1..p50 and `A/B 1`; `ghost` is unknown. */
function msiStore(opts = {}) {
  const sourceItems = new Map();
  const products = new Set([...Array.from({ length: 50 }, (_, i) => `p${i + 1}`), 'A/B 1']);
  const client = fakeClient((req) => {
    if (req.path === '/inventory/sources') return { items: [{ source_code: 'default' }, { source_code: 'eu' }], total_count: 2 };
    if (req.path === '/products' && req.method === 'GET') {
      const skus = req.criteria.filterGroups[0][0].value.split(',');
      const items = skus.filter((s) => products.has(s)).map((sku) => ({ sku }));
      return { items, total_count: items.length };
    }
    if (req.path === '/inventory/source-items' && req.mode === 'bulk') {
      return opts.bulk(req);
    }
    if (req.path === '/inventory/source-items') {
      const list = req.body.sourceItems;
      if (opts.max && list.length > opts.max) throw httpError(400, `Maximum items of type "SourceItemInterface" is ${opts.max}`, { inputLimit: { type: 'SourceItemInterface', max: opts.max } });
      if (list.some((s) => !products.has(s.sku))) throw httpError(400, 'Could not save Source Item');
      for (const s of list) sourceItems.set(`${s.sku}|${s.source_code}`, s);
      return '';
    }
    if (req.path.startsWith('/bulk/')) return opts.status(req);
    throw httpError(404, `Request does not match any route: ${req.path}`);
  });
  return { client, sourceItems, products };
}

function makePush(client, options, deps) {
  const out = { results: [], settled: [] };
  const push = new InventoryPush(client, { windowMs: 0, ...options }, {
    onResult: (r) => out.results.push(r),
    onTicketSettled: (s) => out.settled.push(s),
  }, deps);
  return { push, out };
}

describe('inventory core (fake client)', () => {
  it('validates items by index and reason', () => {
    const ctx = { mode: 'msi', defaultSource: 'default', warehouses: { W1: 'eu' }, allowNegative: false, knownSources: new Set(['default', 'eu']) };
    assert.strictEqual(validateStockUpdate({ sku: 'a', qty: '3' }, ctx).value.quantity, 3);
    assert.strictEqual(validateStockUpdate({ sku: 'a', qty: 3, warehouse: 'W1' }, ctx).value.source_code, 'eu');
    assert.strictEqual(validateStockUpdate({ sku: 'a', qty: 0 }, ctx).value.status, 0);
    assert.strictEqual(validateStockUpdate({ sku: 'a', qty: 0, status: 'in_stock' }, ctx).value.status, 1);
    assert.strictEqual(validateStockUpdate({ qty: 1 }, ctx).error.field, 'sku');
    assert.strictEqual(validateStockUpdate({ sku: 'a', qty: 'NaN' }, ctx).error.field, 'qty');
    assert.strictEqual(validateStockUpdate({ sku: 'a', qty: Infinity }, ctx).error.field, 'qty');
    assert.strictEqual(validateStockUpdate({ sku: 'a', qty: -1 }, ctx).error.field, 'qty');
    assert.strictEqual(validateStockUpdate({ sku: 'a', qty: -1 }, { ...ctx, allowNegative: true }).ok, true);
    assert.strictEqual(validateStockUpdate({ sku: 'a', qty: 1, source: 'mars' }, ctx).error.field, 'source');
    assert.strictEqual(validateStockUpdate({ sku: 'a', qty: 1, warehouse: 'W9' }, ctx).error.field, 'warehouse');
    assert.strictEqual(validateStockUpdate({ sku: 'a', qty: 1, status: 'maybe' }, ctx).error.field, 'status');
    assert.strictEqual(validateStockUpdate({ sku: 'a', qty: 1, timestamp: 'nope' }, ctx).error.field, 'timestamp');
  });

  it('MSI: invalid items answered at once, unknown SKU rejected by the look-up, the rest lands in batches of 20', async () => {
    const { client, sourceItems } = msiStore();
    const { push, out } = makePush(client, {});
    const payload = Array.from({ length: 45 }, (_, i) => ({ sku: `p${i + 1}`, qty: i }));
    payload.push({ sku: 'ghost', qty: 1 }, { sku: 'p1', qty: 'x' }, { sku: 'p2', qty: 1, source: 'mars' });
    const input = await push.accept('m1', payload);
    assert.strictEqual(input.status, 'failed');
    assert.deepStrictEqual(input.items.map((i) => [i.index, i.field]), [[46, 'qty'], [47, 'source']]);
    await push.flush();
    const check = out.results.find((r) => r.phase === 'check');
    assert.deepStrictEqual(check.items.map((i) => [i.sku, i.outcome]), [['ghost', 'rejected']]);
    const sends = out.results.filter((r) => r.phase === 'send');
    assert.deepStrictEqual(sends.map((r) => r.items.length), [20, 20, 5]);
    assert.ok(sends.every((r) => r.status === 'ok'));
    assert.strictEqual(sourceItems.get('p45|default').quantity, 44);
    assert.strictEqual(sourceItems.get('p1|default').status, 0, 'status derived from qty 0');
    assert.strictEqual(out.settled.length, 1);
    assert.strictEqual(out.settled[0].failed.length, 0);
  });

  it('MSI without the SKU look-up: bisects the failed batch, names the bad SKU, lands the good ones', async () => {
    const { client, sourceItems } = msiStore();
    const { push, out } = makePush(client, { checkSkus: false });
    const payload = Array.from({ length: 20 }, (_, i) => ({ sku: i === 13 ? 'ghost' : `p${i + 1}`, qty: 7 }));
    await push.accept('m1', payload);
    await push.flush();
    assert.strictEqual(out.results.length, 1);
    const r = out.results[0];
    assert.strictEqual(r.status, 'partial');
    assert.deepStrictEqual(r.counts, { total: 20, ok: 19, rejected: 1, failed: 0, stale: 0, invalid: 0, superseded: 0 });
    const bad = r.items.find((i) => i.outcome === 'rejected');
    assert.strictEqual(bad.sku, 'ghost');
    assert.strictEqual(bad.index, 13);
    assert.match(bad.reason, /Could not save Source Item/);
    assert.strictEqual(sourceItems.size, 19);
    assert.ok(r.calls > 1);
  });

  it('splits on Maximum items and keeps the smaller size', async () => {
    const { client } = msiStore({ max: 7 });
    const { push, out } = makePush(client, { checkSkus: false });
    await push.accept('m1', Array.from({ length: 20 }, (_, i) => ({ sku: `p${i + 1}`, qty: 1 })));
    await push.flush();
    assert.strictEqual(out.results[0].status, 'ok');
    assert.strictEqual(push.batchSize(), 7);
    const sizes = client.calls.filter((c) => c.path === '/inventory/source-items').map((c) => c.body.sourceItems.length);
    assert.deepStrictEqual(sizes, [20, 7, 7, 6]);
  });

  it('a transient batch failure settles the message with exactly the items to retry', async () => {
    const { client } = msiStore();
    client.settings.maxConcurrency = 1;
    let fail = true;
    const base = client.request;
    client.request = async (req) => {
      if (req.path === '/inventory/source-items' && fail) { fail = false; client.calls.push(req); throw httpError(503, 'Service Unavailable'); }
      return base(req);
    };
    const { push, out } = makePush(client, { checkSkus: false, batchSize: 2 });
    await push.accept('m1', [{ sku: 'p1', qty: 1 }, { sku: 'p2', qty: 2 }, { sku: 'p3', qty: 3 }]);
    await push.flush();
    const settled = out.settled[0];
    assert.strictEqual(settled.error.errorClass, 'transient');
    // stopAfterBatchFailure: the second batch is not sent while the store fails
    assert.deepStrictEqual(settled.failed.map((f) => f.entry.index).sort(), [0, 1, 2]);
    assert.ok(out.results.every((r) => r.status === 'failed' && r.error.errorClass === 'transient'));
  });

  it('legacy mode: one PUT per SKU with the stock item id looked up once', async () => {
    const stock = new Map();
    const client = fakeClient((req) => {
      const m = /^\/stockItems\/(.+)$/.exec(req.path);
      if (m) {
        const sku = decodeURIComponent(m[1]);
        if (sku === 'ghost') throw httpError(404, 'The Product with the "ghost" SKU doesn\'t exist.');
        return { item_id: sku.length * 10, qty: 0 };
      }
      const p = /^\/products\/(.+)\/stockItems\/(\d+)$/.exec(req.path);
      if (p && req.method === 'PUT') { stock.set(decodeURIComponent(p[1]), req.body.stockItem); return 1; }
      throw httpError(404, 'no route');
    });
    const { push, out } = makePush(client, { mode: 'legacy' });
    await push.accept('m1', [{ sku: 'A/B 1', qty: 4 }, { sku: 'ghost', qty: 1 }, { sku: 'x', qty: 1, source: 'eu' }]);
    await push.flush();
    await push.accept('m2', [{ sku: 'A/B 1', qty: 5 }]);
    await push.flush();
    const paths = client.calls.map((c) => `${c.method} ${c.path}`).sort();
    assert.deepStrictEqual(paths, [
      'GET /stockItems/A%2FB%201', 'GET /stockItems/ghost', 'PUT /products/A%2FB%201/stockItems/50',
      'PUT /products/A%2FB%201/stockItems/50',
    ]);
    assert.deepStrictEqual(stock.get('A/B 1'), { qty: 5, is_in_stock: true });
    const first = out.results[0];
    assert.deepStrictEqual(first.items.map((i) => [i.sku, i.outcome]), [['A/B 1', 'ok'], ['ghost', 'rejected']]);
    assert.match(first.items[1].reason, /doesn't exist/);
  });

  it('bulk mode: follows detailed-status and judges by each operation', async () => {
    let polls = 0;
    const { client } = msiStore({
      bulk: (req) => ({ bulk_uuid: 'u-1', request_items: req.body.map((b, id) => ({ id, data_hash: 'h', status: 'accepted' })), errors: false }),
      status: () => {
        polls++;
        const open = polls < 2;
        return { operations_list: [0, 1, 2].map((id) => ({ id, status: open ? 4 : id === 1 ? 3 : 1, result_message: id === 1 ? 'Could not save Source Item' : null })), operation_count: 3 };
      },
    });
    const { push, out } = makePush(client, { mode: 'bulk', bulkPollMs: 1, bulkDeadlineMs: 5000 });
    await push.accept('m1', [{ sku: 'p1', qty: 1 }, { sku: 'p2', qty: 2 }, { sku: 'p3', qty: 3 }]);
    await push.flush();
    const r = out.results.find((x) => x.phase === 'send');
    assert.strictEqual(r.bulkUuid, 'u-1');
    assert.strictEqual(r.status, 'partial');
    assert.deepStrictEqual(r.items.map((i) => i.outcome), ['ok', 'rejected', 'ok']);
    assert.strictEqual(polls, 2);
    assert.strictEqual(r.calls, 4, 'SKU look-up + bulk request + 2 status polls');
  });

  it('bulk mode: consumers not running → deadline result, items to retry', async () => {
    const { client } = msiStore({
      bulk: (req) => ({ bulk_uuid: 'u-2', request_items: req.body.map((b, id) => ({ id, status: 'accepted' })), errors: false }),
      status: () => ({ operations_list: [{ id: 0, status: 4 }], operation_count: 1 }),
    });
    const { push, out } = makePush(client, { mode: 'bulk', bulkPollMs: 5, bulkDeadlineMs: 30 });
    await push.accept('m1', [{ sku: 'p1', qty: 1 }]);
    await push.flush();
    const r = out.results.find((x) => x.phase === 'send');
    assert.strictEqual(r.status, 'failed');
    assert.strictEqual(r.consumers, 'not-running');
    assert.match(r.items[0].reason, /queue consumers are not running/);
    assert.strictEqual(out.settled[0].failed.length, 1);
    assert.strictEqual(out.settled[0].error.errorClass, 'transient');
  });

  it('drops a stale update with a reason and remembers the applied timestamp', async () => {
    const kv = new Map();
    const backend = { get: async (k) => kv.get(k), set: async (k, v) => { kv.set(k, v); } };
    const { client, sourceItems } = msiStore();
    const { push, out } = makePush(client, { checkSkus: false }, { timestamps: backend });
    await push.accept('m1', [{ sku: 'p1', qty: 9, timestamp: '2024-05-01 10:00:00' }]);
    await push.flush();
    await new Promise(setImmediate);
    const input = await push.accept('m2', [{ sku: 'p1', qty: 1, timestamp: '2024-05-01 09:00:00' }, { sku: 'p2', qty: 1 }]);
    await push.flush();
    assert.strictEqual(input.items[0].outcome, 'stale');
    assert.match(input.items[0].reason, /already applied/);
    assert.strictEqual(sourceItems.get('p1|default').quantity, 9);
    assert.strictEqual(sourceItems.get('p2|default').quantity, 1);
    assert.ok(out.settled.every((s) => s.failed.length === 0));
  });
});
