'use strict';
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const erpRequestModule = require('../../dist/nodes/erp-request/erp-request.js');
const CATALOG = require('../../dist/nodes/erp-request/locales/en-US/erp-request.json');

// The test helper's RED._ returns the bare key: translate from the node's own catalogue, so the texts
// users read are the ones tested.
function erpRequest(RED) {
  RED._ = (key, subs = {}) => {
    const text = key.split('.').reduce((at, k) => (at && typeof at === 'object' ? at[k] : undefined), CATALOG);
    return typeof text === 'string' ? text.replace(/__(\w+)__/g, (m, name) => (name in subs ? String(subs[name]) : m)) : key;
  };
  return erpRequestModule(RED);
}
const { startDemoErp } = require('../../dist/sandbox/erp/index.js');
const { openAuditLog } = require('../../dist/lib/audit');
const { order, startScriptedServer, until } = require('../erp/support');

helper.init(require.resolve('node-red'));

const TOKEN = 'erp-node-token-0815';

function collector(node) {
  const messages = [];
  node.on('input', (msg) => messages.push(msg));
  return messages;
}

describe('magento-erp-request node (against the demo ERP)', function () {
  this.timeout(20000);
  let erp;
  let scripted;
  let userDir;
  const logged = [];
  const orig = {};

  before(async function () {
    erp = await startDemoErp({ port: 0, host: '127.0.0.1', token: TOKEN });
    scripted = await startScriptedServer();
  });
  after(async function () {
    if (erp) await erp.close();
    if (scripted) await scripted.close();
    helper.settings({});
  });
  beforeEach(function (done) {
    erp.reset();
    erp.setFaults({});
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-request-node-'));
    helper.settings({ userDir });
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  /** Loads the node with a Catch scoped to it; every log line the runtime writes is kept in `logged`. */
  async function load(config = {}, credentials = { token: TOKEN }) {
    const flow = [
      { id: 'erp', type: 'magento-erp-request', z: 'tab', url: erp.url, path: '/orders', method: 'POST', bodyProperty: 'payload', keyHeader: 'Idempotency-Key',
        passStatuses: '', timeout: '30', maxConnections: '10', audit: true, wires: [['answered'], ['failed']], ...config },
      { id: 'answered', type: 'helper', z: 'tab' },
      { id: 'failed', type: 'helper', z: 'tab' },
      { id: 'onCatch', type: 'catch', z: 'tab', scope: ['erp'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
    await helper.load([erpRequest, catchNode], flow, { erp: credentials });
    const node = helper.getNode('erp');
    logged.length = 0;
    for (const level of ['log', 'warn', 'error', 'debug', 'trace']) {
      if (typeof node[level] !== 'function') continue;
      orig[level] = node[level].bind(node);
      node[level] = (m, ...rest) => { logged.push(typeof m === 'string' ? m : JSON.stringify(m)); return orig[level](m, ...rest); };
    }
    const statuses = [];
    const status = node.status.bind(node);
    node.status = (s) => { statuses.push(s); return status(s); };
    return {
      node, statuses,
      answered: collector(helper.getNode('answered')),
      failed: collector(helper.getNode('failed')),
      caught: collector(helper.getNode('caught')),
    };
  }

  it('posts the order with its idempotency key and token, and passes the same message object on with the answer', async function () {
    const { node, answered, failed, statuses } = await load();
    const msg = { payload: order('100000101'), idempotencyKey: 'order_100000101', _gate: { key: 'order_100000101' }, topic: '100000101', failure: { errorClass: 'transient' } };
    node.receive(msg);
    await until(() => answered.length === 1, 'the answer');
    assert.strictEqual(failed.length, 0);
    const out = answered[0];
    assert.ok(out === msg, 'the message object itself, not a copy');
    assert.ok(out.payload && typeof out.payload.erp_order_id === 'string', JSON.stringify(out.payload));
    assert.ok(out.statusCode >= 200 && out.statusCode < 300);
    assert.strictEqual(typeof out.headers, 'object');
    assert.strictEqual(out.idempotencyKey, 'order_100000101');
    assert.deepStrictEqual(out._gate, { key: 'order_100000101' });
    assert.strictEqual(out.failure, undefined, 'an earlier failure is removed');
    assert.strictEqual(erp.state.orders.size, 1);
    assert.strictEqual(erp.requests.find((r) => r.path === '/orders').idempotencyKey, 'order_100000101');
    await until(() => statuses.some((s) => s.text === 'ok 1 · failed 0'), 'the status counts');

    // The call is in the audit log, without the token.
    const { log, release } = openAuditLog({ directory: path.join(userDir, 'magento-erp') });
    try {
      const rows = await log.query({ idempotencyKey: 'order_100000101' });
      assert.strictEqual(rows.length, 1);
      assert.deepStrictEqual([rows[0].store, rows[0].method, rows[0].route, rows[0].operation, rows[0].status], ['erp', 'POST', '/orders', 'erp.orders.create', out.statusCode]);
      assert.ok(!JSON.stringify(rows).includes(TOKEN));
    } finally {
      await release();
    }
  });

  it('409 listed in "answers too" goes out as an answer', async function () {
    const { node, answered, failed } = await load({ passStatuses: '409' });
    node.receive({ payload: order('100000103'), idempotencyKey: 'first-key' });
    await until(() => answered.length === 1, 'the first answer');
    node.receive({ payload: order('100000103'), idempotencyKey: 'second-key' });
    await until(() => answered.length === 2, 'the 409 answer');
    assert.strictEqual(failed.length, 0);
    assert.strictEqual(answered[1].statusCode, 409);
    assert.strictEqual(answered[1].payload.erp_order_id, answered[0].payload.erp_order_id);
  });

  it('503 with Retry-After: output 2 transient with retryAfterMs, and the Catch node sees it', async function () {
    const { node, answered, failed, caught, statuses } = await load();
    erp.setFaults({ failNextOrders: 1, status: 503, retryAfterSeconds: 4 });
    const msg = { payload: order('100000104'), idempotencyKey: 'order_100000104' };
    node.receive(msg);
    await until(() => failed.length === 1 && caught.length === 1, 'output 2 and the Catch node');
    assert.strictEqual(answered.length, 0);
    const f = failed[0].failure;
    assert.deepStrictEqual(
      { errorClass: f.errorClass, status: f.status, retryAfterMs: f.retryAfterMs, target: f.target, operation: f.operation },
      { errorClass: 'transient', status: 503, retryAfterMs: 4000, target: 'erp', operation: 'erp.orders.create' },
    );
    assert.match(f.message, /^POST \/orders \(order_100000104\): the ERP answered 503/);
    assert.deepStrictEqual(failed[0].payload, order('100000104'), 'the body stays for a retry');
    assert.strictEqual(caught[0].error.message, `IntegrationError: ${f.message}`);
    assert.strictEqual(caught[0].failure.errorClass, 'transient');
    await until(() => statuses.some((s) => s.text === 'ok 0 · failed 1' && s.fill === 'yellow'), 'the failed count');
  });

  it('400 with errors[]: validation with details.problems', async function () {
    const { node, failed } = await load();
    const bad = order('100000105');
    bad.items[0].qty = 'two';
    node.receive({ payload: bad, idempotencyKey: 'order_100000105' });
    await until(() => failed.length === 1, 'the failure');
    const f = failed[0].failure;
    assert.strictEqual(f.errorClass, 'validation');
    assert.strictEqual(f.status, 400);
    assert.ok(Array.isArray(f.details.problems) && f.details.problems.length > 0);
    assert.ok(JSON.stringify(f.details.problems).includes('items/0/qty'), JSON.stringify(f.details));
  });

  it('no answer within the timeout: transient', async function () {
    scripted.set({ hang: true });
    const { node, failed, caught } = await load({ url: scripted.url, timeout: '0.2' });
    node.receive({ payload: { a: 1 }, idempotencyKey: 'k-timeout' });
    await until(() => failed.length === 1 && caught.length === 1, 'the timeout');
    assert.strictEqual(failed[0].failure.errorClass, 'transient');
    assert.strictEqual(failed[0].failure.code, 'ETIMEDOUT');
  });

  it('a message without msg.idempotencyKey, or without a body, is a validation failure naming it; nothing is sent', async function () {
    const { node, failed, caught } = await load();
    node.receive({ payload: order('100000106') });
    node.receive({ idempotencyKey: 'k' });
    node.receive({ payload: {}, idempotencyKey: 'k', erpPath: 'http://elsewhere/x' });
    await until(() => failed.length === 3 && caught.length === 3, 'three failures');
    assert.deepStrictEqual(failed.map((m) => [m.failure.errorClass, m.failure.field]), [
      ['validation', 'msg.idempotencyKey'], ['validation', 'msg.payload'], ['validation', 'msg.erpPath'],
    ]);
    assert.match(failed[0].failure.message, /^msg\.idempotencyKey: is missing/);
    assert.strictEqual(erp.requests.filter((r) => r.path === '/orders').length, 0);
  });

  it('a body that has no JSON form (a cycle) is a validation failure on output 2; nothing is sent', async function () {
    const { node, failed, caught } = await load();
    const payload = { order_number: '100000108' };
    payload.self = payload;
    node.receive({ payload, idempotencyKey: 'order_100000108' });
    await until(() => failed.length === 1 && caught.length === 1, 'the failure');
    assert.strictEqual(failed[0].failure.errorClass, 'validation');
    assert.strictEqual(failed[0].failure.field, 'body');
    assert.match(failed[0].failure.message, /cannot be sent as JSON/);
    assert.strictEqual(erp.requests.filter((r) => r.path === '/orders').length, 0);
  });

  it('msg.erpPath and no key header: GET /orders/<n>', async function () {
    const { node, answered } = await load({ method: 'GET', keyHeader: '' });
    const created = await fetch(`${erp.url}/orders`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'idempotency-key': 'x', 'content-type': 'application/json' }, body: JSON.stringify(order('100000107')) });
    assert.ok(created.ok);
    node.receive({ erpPath: '/orders/100000107' });
    await until(() => answered.length === 1, 'the answer');
    assert.strictEqual(answered[0].payload.order.order_number, '100000107');
  });

  it('never puts the token in msg.failure, the logs or the status (wrong token, ERP echoing it)', async function () {
    scripted.set({ status: 401, body: { message: `bearer ${TOKEN} is not valid` } });
    const { node, failed, caught, statuses } = await load({ url: scripted.url });
    node.receive({ payload: { a: 1 }, idempotencyKey: 'k1' });
    await until(() => failed.length === 1 && caught.length === 1, 'the failure');
    assert.strictEqual(scripted.requests.at(-1).headers.authorization, `Bearer ${TOKEN}`);
    assert.strictEqual(failed[0].failure.errorClass, 'auth');
    const everything = JSON.stringify({ failure: failed[0].failure, caught: caught[0].error, logged, statuses });
    assert.ok(!everything.includes(TOKEN), everything);
  });

  it('a bad configuration fails each message with the field named, on output 2 and to the Catch node', async function () {
    const { node, caught, failed } = await load({ url: 'ftp://erp' });
    node.receive({ payload: {}, idempotencyKey: 'k' });
    await until(() => caught.length === 1 && failed.length === 1, 'the failure');
    assert.strictEqual(failed[0].failure.field, 'url');
    assert.match(caught[0].error.message, /erp-request is not configured right: url: must start with http:\/\/ or https:\/\//);
    assert.strictEqual(caught[0].failure.field, 'url');
  });

  it('takes ${ENV} references in the URL and the token, and the body from another property', async function () {
    process.env.ERP_REQUEST_TEST_URL = erp.url;
    process.env.ERP_REQUEST_TEST_TOKEN = TOKEN;
    try {
      const { node, answered } = await load({ url: '${ERP_REQUEST_TEST_URL}', bodyProperty: 'erp.order' }, { token: '${ERP_REQUEST_TEST_TOKEN}' });
      node.receive({ payload: 'not this', erp: { order: order('100000108') }, idempotencyKey: 'order_100000108' });
      await until(() => answered.length === 1, 'the answer');
      assert.strictEqual(answered[0].statusCode, 201);
      assert.strictEqual(erp.state.ordersByNumber.get('100000108').order_number, '100000108');
    } finally {
      delete process.env.ERP_REQUEST_TEST_URL;
      delete process.env.ERP_REQUEST_TEST_TOKEN;
    }
  });
});
