'use strict';
/** The demo ERP (which validates POST /orders against erp-order.schema.json) accepts what map-order produces. */
const assert = require('assert');
const path = require('path');
const fs = require('fs');
const { mapAndValidateOrder, resolveOptions } = require('../../dist/lib/mapping');
const fixtures = require('./fixtures');

const ERP = path.join(__dirname, '../../dist/sandbox/erp/index.js');

describe('mapped orders against the demo ERP', function () {
  this.timeout(30000);
  let erp;

  before(async function () {
    if (!fs.existsSync(ERP)) this.skip();
    erp = await require(ERP).startDemoErp({ port: 0, host: '127.0.0.1', token: 'erp-test-token' });
  });
  after(async function () {
    if (erp) await erp.close();
  });

  async function post(order, key) {
    const res = await fetch(`${erp.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer erp-test-token', 'idempotency-key': key },
      body: JSON.stringify(order),
    });
    return { status: res.status, body: await res.json() };
  }

  for (const settings of [{}, { amounts: 'incl_tax' }]) {
    it(`accepts every fixture mapped with ${JSON.stringify(settings)}`, async function () {
      erp.reset();
      for (const raw of fixtures.all()) {
        const outcome = mapAndValidateOrder(raw, resolveOptions(settings));
        assert.ok(outcome.ok, outcome.ok ? '' : outcome.error.message);
        const answer = await post(outcome.order, `order_${outcome.order.order_number}`);
        assert.ok(answer.status >= 200 && answer.status < 300, `${raw.increment_id}: ${answer.status} ${JSON.stringify(answer.body)}`);
      }
    });
  }

  it('refuses an order a field rule broke, with the schema\'s reasons', async function () {
    erp.reset();
    const raw = fixtures.simpleOrder();
    const outcome = mapAndValidateOrder(raw);
    const broken = { ...outcome.order, items: [{ ...outcome.order.items[0], qty: 'two' }] };
    const answer = await post(broken, 'order_broken');
    assert.strictEqual(answer.status, 400);
    assert.match(JSON.stringify(answer.body), /items\/0\/qty/);
  });
});
