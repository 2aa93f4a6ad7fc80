'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const helper = require('node-red-node-test-helper');
const queueNode = require('../../dist/nodes/retry-queue/retry-queue.js');
const { attachAuditLog } = require('../../dist/lib/audit');
const { IntegrationError } = require('../../dist/lib/errors');
const { tempDir, delay } = require('../stores/kinds');

helper.init(require.resolve('node-red'));
const core = (p) => require(`@node-red/nodes/core/${p}`);
const coreNodes = [core('function/10-function.js'), core('common/25-catch.js')];

function collector(node) {
  const got = [];
  const waiters = [];
  node.on('input', (msg) => {
    got.push(msg);
    for (const w of waiters.splice(0)) if (got.length >= w.n) w.resolve(got); else waiters.push(w);
  });
  return { got, until: (n) => (got.length >= n ? Promise.resolve(got) : new Promise((resolve) => waiters.push({ n, resolve }))) };
}

const transient = (target = 'shop-a') => new IntegrationError('transient', 'HTTP 503 Service Unavailable', { status: 503, target }).toJSON();

describe('magento-retry-queue node', function () {
  this.timeout(20000);
  let userDir;

  beforeEach((done) => {
    userDir = tempDir('queue-node');
    helper.settings({ userDir });
    helper.startServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  async function load(config = {}, extra = [], wires) {
    const flow = [
      { id: 'queue', type: 'magento-retry-queue', storeKind: 'sqlite', baseDelaySeconds: '0.02', maxDelaySeconds: '0.05', wires: wires ?? [['retried'], ['dead'], ['control']], ...config },
      { id: 'retried', type: 'helper' },
      { id: 'dead', type: 'helper' },
      { id: 'control', type: 'helper' },
      ...extra,
    ];
    await helper.load([queueNode, ...coreNodes], flow);
    return { queue: helper.getNode('queue'), retried: collector(helper.getNode('retried')), dead: collector(helper.getNode('dead')), control: collector(helper.getNode('control')) };
  }

  it('retries a flaky step from its Catch node until it succeeds, with msg.retry', async function () {
    // The step fails twice (503), then succeeds; its Catch feeds the queue; the queue feeds the step again.
    const extra = [
      { id: 'step', type: 'function', func: 'const n = (context.get("n") || 0) + 1; context.set("n", n); if (n <= 2) { msg.failure = { name: "IntegrationError", errorClass: "transient", message: "HTTP 503", status: 503, target: "erp", time: new Date().toISOString() }; throw new Error("HTTP 503"); } return msg;', wires: [['ok']] },
      { id: 'ok', type: 'helper' },
      { id: 'on-catch', type: 'catch', scope: ['step'], uncaught: false, wires: [['queue']] },
    ];
    await load({}, extra, [['retried', 'step'], ['dead'], ['control']]);
    const ok = collector(helper.getNode('ok'));
    helper.getNode('step').receive({ payload: { order: 1 }, idempotencyKey: 'order_1' });
    await ok.until(1);
    assert.deepStrictEqual(ok.got[0].payload, { order: 1 });
    assert.strictEqual(ok.got[0].retry.attempt, 2);
    assert.strictEqual(ok.got[0].retry.history.length, 2);
    assert.ok(ok.got[0].retry.history.every((h) => h.status === 503 && h.target === 'erp'));
  });

  it('dead-letters a permanent failure, lists it, retries and discards it by command', async function () {
    const { queue, retried, dead, control } = await load();
    queue.receive({ payload: { sku: 'A' }, failure: new IntegrationError('validation', 'qty: must be a number', { field: 'qty' }).toJSON(), req: { socket: {} }, res: {} });
    await dead.until(1);
    assert.strictEqual(dead.got[0].deadLetter.reason, 'validation');
    assert.strictEqual(dead.got[0].req, undefined, 'req/res are never stored');
    queue.receive({ command: 'list', payload: { state: 'dead' } });
    await control.until(1);
    assert.strictEqual(control.got[0].topic, 'retry-queue/list');
    assert.strictEqual(control.got[0].payload.count, 1);
    const id = control.got[0].payload.entries[0].id;
    queue.receive({ command: 'retry', payload: { ids: [id] } });
    await retried.until(1);
    assert.strictEqual(retried.got[0].retry.id, id);
    assert.deepStrictEqual(retried.got[0].payload, { sku: 'A' });
    queue.receive({ command: 'discard', payload: id });
    await control.until(3);
    queue.receive({ command: 'stats' });
    await control.until(4);
    assert.deepStrictEqual(control.got[1].payload.retried, [id]);
    assert.deepStrictEqual(control.got[2].payload.discarded, [id]);
    assert.strictEqual(control.got[3].topic, 'retry-queue/stats');
    assert.strictEqual(control.got[3].payload.counts.dead + control.got[3].payload.counts.inFlight, 0);
  });

  it('refuses a failure when full: done(err) seen by Catch, with msg.failure, nothing stored', async function () {
    const extra = [{ id: 'on-catch', type: 'catch', scope: ['queue'], uncaught: false, wires: [['caught']] }, { id: 'caught', type: 'helper' }];
    const { queue } = await load({ maxQueueSize: '1', baseDelaySeconds: '60', maxDelaySeconds: '60' }, extra);
    const caught = collector(helper.getNode('caught'));
    queue.receive({ payload: 1, failure: transient() });
    queue.receive({ payload: 2, failure: transient() });
    await caught.until(1);
    assert.strictEqual(caught.got[0].payload, 2);
    assert.strictEqual(caught.got[0].failure.operation, 'retry-queue.enqueue');
    assert.match(caught.got[0].error.message, /retry queue is full \(1 messages waiting\)/);
  });

  it('rejects a message without failure or error with a clear reason', async function () {
    const extra = [{ id: 'on-catch', type: 'catch', scope: ['queue'], uncaught: false, wires: [['caught']] }, { id: 'caught', type: 'helper' }];
    const { queue } = await load({}, extra);
    const caught = collector(helper.getNode('caught'));
    queue.receive({ payload: 1 });
    await caught.until(1);
    assert.strictEqual(caught.got[0].failure.field, 'failure');
  });

  it('pauses on auth failures and resumes by command', async function () {
    const { queue, retried, control } = await load();
    queue.receive({ payload: 'p', failure: new IntegrationError('auth', 'The consumer isn\'t authorized to access %resources.', { status: 401, target: 'shop-a' }).toJSON() });
    await control.until(1);
    assert.strictEqual(control.got[0].topic, 'retry-queue/alert/paused');
    await delay(100);
    assert.strictEqual(retried.got.length, 0);
    queue.receive({ command: 'resume' });
    await retried.until(1);
    assert.strictEqual(retried.got[0].payload, 'p');
  });

  it('pending retries survive a restart of the runtime and fire after it', async function () {
    let { queue } = await load({ baseDelaySeconds: '0.6', maxDelaySeconds: '0.6' });
    queue.receive({ payload: 'survivor', failure: { ...transient(), retryAfterMs: 600 } });
    await delay(100);
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    await new Promise((r) => helper.startServer(r));
    const again = await load({ baseDelaySeconds: '0.6', maxDelaySeconds: '0.6' });
    await again.retried.until(1);
    assert.strictEqual(again.retried.got[0].payload, 'survivor');
  });

  it('answers audit queries by message and on the admin route', async function () {
    const listeners = [];
    const fakeClient = { onCall: (l) => { listeners.push(l); return () => listeners.splice(listeners.indexOf(l), 1); } };
    const detach = attachAuditLog(fakeClient, path.join(userDir, 'magento-erp'));
    listeners[0]({ time: new Date().toISOString(), store: 'shop-a', method: 'GET', route: '/rest/default/V1/orders/5', operation: 'orders.get', entityType: 'order', entityId: '5', status: 200, durationMs: 12 });
    listeners[0]({ time: new Date().toISOString(), store: 'shop-a', method: 'POST', route: '/rest/default/V1/inventory/source-items', operation: 'inventory.source-items.save', status: 401, durationMs: 8, error: 'Authorization: Bearer abcdefgh rejected', errorClass: 'auth' });
    const { queue, control } = await load();
    queue.receive({ command: 'audit', payload: { store: 'shop-a', limit: 10 } });
    await control.until(1);
    const records = control.got[0].payload.records;
    assert.strictEqual(records.length, 2);
    assert.strictEqual(records[1].entityId, '5');
    assert.ok(!JSON.stringify(records).includes('abcdefgh'), 'no secret in the audit log');
    const res = await helper.request().get('/magento-erp/audit?operation=orders.get').expect(200);
    assert.strictEqual(res.body.count, 1);
    await helper.request().get('/magento-erp/audit?since=yesterday').expect(400);
    detach();
  });
});
