'use strict';
// The order book answers lists from index ranges, seed headers and cached prefix counts instead of
// building every order. These tests check those short cuts against a brute-force evaluation of the same
// criteria over every order, after some orders changed and new ones were placed.
const assert = require('assert');
const { startMagentoSandbox } = require('../../dist/sandbox/magento');
const { request, sc } = require('./magento-helpers');

const H = { Authorization: 'Bearer sandbox-token' };

describe('Magento sandbox order queries (short cuts = brute force)', function () {
  let s;
  let all;
  const list = async (q) => (await request(s.url, 'GET', `/rest/default/V1/orders?${q}`, { headers: H })).json;

  before(async () => {
    s = await startMagentoSandbox({ orders: 5000, seed: 11 });
    // Change a few seeded orders (some early, some late) and place new ones.
    for (const id of [3, 2500, 2501, 4999]) {
      await request(s.url, 'POST', `/rest/default/V1/orders/${id}/comments`, { headers: H, body: { statusHistory: { comment: 'touched' } } });
    }
    await s.placeOrders(3);
    all = [];
    for (let page = 1; ; page++) {
      const r = await list(sc({ pageSize: 300, currentPage: page }));
      all.push(...r.items);
      if (all.length >= r.total_count) break;
    }
    assert.strictEqual(all.length, 5003);
  });
  after(() => s.close());

  const cmp = (sorts) => (a, b) => {
    for (const [f, d] of sorts) {
      const x = a[f]; const y = b[f];
      const c = x < y ? -1 : x > y ? 1 : 0;
      if (c) return d === 'DESC' ? -c : c;
    }
    return 0;
  };

  async function pages(groups, sorts, pageSize) {
    const out = [];
    let total;
    for (let page = 1; ; page++) {
      const r = await list(sc({ groups, sort: sorts, pageSize, currentPage: page }));
      total = r.total_count;
      out.push(...r.items.map((o) => o.entity_id));
      if (out.length >= total || r.items.length === 0) break;
    }
    return { ids: out, total };
  }

  it('keyset cursor groups (OR of lower bounds) page like a full scan', async () => {
    const pivot = all.find((o) => o.entity_id === 1200);
    const groups = [[['updated_at', pivot.updated_at, 'gteq']], [['updated_at', pivot.updated_at, 'gt'], ['entity_id', pivot.entity_id, 'gt']]];
    const sorts = [['updated_at', 'ASC'], ['entity_id', 'ASC']];
    const got = await pages(groups, sorts, 300);
    const expected = all.filter((o) => o.updated_at >= pivot.updated_at && (o.updated_at > pivot.updated_at || o.entity_id > pivot.entity_id))
      .sort(cmp(sorts)).map((o) => o.entity_id);
    assert.strictEqual(got.total, expected.length);
    assert.deepStrictEqual(got.ids, expected);
    assert.deepStrictEqual(got.ids.slice(-7).sort((a, b) => a - b), [3, 2500, 2501, 4999, 5001, 5002, 5003]);
  });

  it('status and store filters over a large range use the prefix index and still exclude changed orders', async () => {
    const groups = [[['status', 'pending,processing', 'in']], [['store_id', '1,3', 'in']]];
    const sorts = [['entity_id', 'DESC']];
    const got = await pages(groups, sorts, 250);
    const expected = all.filter((o) => ['pending', 'processing'].includes(o.status) && [1, 3].includes(o.store_id)).sort(cmp(sorts)).map((o) => o.entity_id);
    assert.strictEqual(got.total, expected.length);
    assert.deepStrictEqual(got.ids, expected);
    // Again (the index is cached now), as one page past the end: the last page.
    const r = await list(sc({ groups, sort: sorts, pageSize: 250, currentPage: 999 }));
    assert.deepStrictEqual(r.items.map((o) => o.entity_id), expected.slice(Math.floor((expected.length - 1) / 250) * 250));
  });

  it('guest e-mail like filter with a created_at window, sorted by created_at DESC', async () => {
    const from = all[999].created_at;
    const to = all[3999].created_at;
    const groups = [[['customer_email', '%@example.org', 'like']], [['created_at', from, 'from']], [['created_at', to, 'to']]];
    const sorts = [['created_at', 'DESC']];
    const got = await pages(groups, sorts, 300);
    const expected = all.filter((o) => o.customer_email.endsWith('@example.org') && o.created_at >= from && o.created_at <= to).sort(cmp(sorts)).map((o) => o.entity_id);
    assert.deepStrictEqual(got.ids, expected);
  });

  it('a filter on a built-only column (grand_total) agrees too', async () => {
    const groups = [[['grand_total', 100, 'gt']], [['entity_id', 4000, 'lteq']]];
    const got = await pages(groups, [], 300);
    const expected = all.filter((o) => o.grand_total > 100 && o.entity_id <= 4000).map((o) => o.entity_id);
    assert.deepStrictEqual(got.ids, expected);
  });

  it('increment_id and customer columns from seed headers match the built orders', async () => {
    for (const o of all.filter((x) => x.entity_id % 997 === 0)) {
      const r = await list(sc({ groups: [[['increment_id', o.increment_id]], [['customer_email', o.customer_email]], [['store_id', o.store_id]]], pageSize: 5 }));
      assert.deepStrictEqual(r.items.map((x) => x.entity_id), [o.entity_id]);
    }
  });
});
