'use strict';
// read-orders waits for the flow: the next page is fetched only once the orders sent were taken over
// (completed by the next node), bounded by "in flight" and a take-over timeout.
const assert = require('assert');
const EventEmitter = require('events');
const fs = require('fs');
const os = require('os');
const path = require('path');
const sinon = require('sinon');
const helper = require('node-red-node-test-helper');
const nrUtil = require('@node-red/util');
const readOrders = require('../../dist/nodes/read-orders/read-orders.js');
const gateNode = require('../../dist/nodes/idempotency-gate/idempotency-gate.js');
const { Handover } = require('../../dist/lib/orders');
const fakeStoreConfig = require('../orders/fake-store-config');
const { FakeMagento } = require('../orders/fake-magento');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

helper.init(require.resolve('node-red'));

/** Orders received by the "slow" node, each held until the test calls done() on it. */
const slow = new EventEmitter();
slow.held = [];
slow.received = [];

/** A downstream node that completes a message only when the test releases it; also gives the runtime its hooks. */
function slowModule(RED) {
  // The test helper's RED has no hooks; the runtime's own registry is what Node.prototype._complete triggers.
  RED.hooks = nrUtil.hooks;
  RED.nodes.registerType('slow-take', function SlowTake(config) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg, send, done) => {
      slow.received.push(msg);
      slow.held.push({ msg, done });
      slow.emit('change');
    });
  });
  // A node whose handler declares no done(), like core switch: it takes a message on receipt.
  RED.nodes.registerType('legacy-take', function LegacyTake(config) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg) => {
      slow.received.push(msg);
      slow.emit('change');
    });
  });
}

/** Resolves once `predicate()` holds, re-checked whenever the slow node or the read node's status changes. */
function until(predicate, what) {
  if (predicate()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { slow.off('change', check); reject(new Error(`timed out waiting for ${what}`)); }, 10000);
    function check() {
      if (!predicate()) return;
      clearTimeout(timer);
      slow.off('change', check);
      resolve();
    }
    slow.on('change', check);
  });
}

function release(n = slow.held.length) {
  for (const { done } of slow.held.splice(0, n)) done();
}

/** A few turns of the event loop: enough for a page fetch that should not happen to show up. */
async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

describe('magento-read-orders back-pressure (real runtime hooks)', function () {
  let userDir;
  let magento;

  after(() => helper.settings({}));
  beforeEach((done) => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'read-orders-bp-'));
    helper.settings({ userDir });
    magento = new FakeMagento({ name: 'shop' });
    fakeStoreConfig.use(magento);
    slow.held = [];
    slow.received = [];
    helper.startServer(done);
  });
  afterEach(async () => {
    release();
    sinon.restore();
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  async function load(config = {}, downstream = 'slow-take', extra = []) {
    const flow = [
      { id: 'tab', type: 'tab' },
      { id: 'store', type: 'magento-store-config', name: 'shop' },
      { id: 'read', type: 'magento-read-orders', z: 'tab', x: 0, y: 0, store: 'store', pageSize: '10', busy: 'wait', overlapSeconds: '0',
        notFoundRetries: '3', notFoundDelayMs: '5', storeKind: 'memory', wires: [['down'], ['summary']], ...config },
      { id: 'down', type: downstream, z: 'tab', x: 0, y: 0 },
      { id: 'summary', type: 'helper', z: 'tab', x: 0, y: 0 },
      { id: 'catch', type: 'catch', z: 'tab', x: 0, y: 0, scope: ['read'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab', x: 0, y: 0 },
      ...extra,
    ];
    await helper.load([fakeStoreConfig, readOrders, gateNode, slowModule, catchNode], flow);
    const read = helper.getNode('read');
    const statuses = [];
    const warnings = [];
    const status = read.status.bind(read);
    read.status = (s) => { statuses.push(s); status(s); slow.emit('change'); };
    const warn = read.warn.bind(read);
    read.warn = (w) => { warnings.push(String(w)); warn(w); };
    const summaries = [];
    helper.getNode('summary').on('input', (msg) => { summaries.push(msg); slow.emit('change'); });
    const caught = [];
    helper.getNode('caught').on('input', (msg) => { caught.push(msg); slow.emit('change'); });
    return { read, statuses, warnings, summaries, caught };
  }

  const orderCalls = () => magento.callsTo('/orders').length;

  it('keeps two pages out by default: page 3 is fetched only once every order of page 1 was completed downstream', async () => {
    magento.addOrders(35);
    const n = await load();
    n.read.receive({ payload: 'tick' });
    await until(() => slow.held.length === 20 && n.statuses.some((s) => /status\.waiting|waiting for the flow/.test(s.text)), 'pages 1 and 2 and the waiting status');
    await settle();
    assert.strictEqual(orderCalls(), 2, 'page 3 fetched while two pages were still being worked on');

    release(9);
    await settle();
    assert.strictEqual(orderCalls(), 2, 'page 3 fetched with one order of page 1 still in flight');

    release(1);
    await until(() => slow.held.length === 20, 'page 3');
    assert.strictEqual(orderCalls(), 3);
    assert.strictEqual(n.summaries.length, 0, 'the summary came before the orders were taken over');

    release(10);
    await until(() => slow.held.length === 15, 'page 4');
    assert.strictEqual(orderCalls(), 4);
    release();
    await until(() => n.summaries.length === 1, 'the summary');
    assert.strictEqual(n.summaries[0].payload.orders, 35);
    assert.strictEqual(n.summaries[0].payload.unconfirmed, 0);
    assert.strictEqual(n.warnings.length, 0);
    assert.strictEqual(n.statuses[n.statuses.length - 1].fill, 'green');
  });

  it('behind a gate that completes when settled, an order counts as taken only once its key is committed or released', async () => {
    magento.addOrders(25);
    const n = await load({ wires: [['gate'], ['summary']] }, 'slow-take', [
      { id: 'gate', type: 'magento-idempotency-gate', z: 'tab', x: 0, y: 0, keyFrom: 'template', keyTemplate: 'order_{{payload.increment_id}}',
        storeKind: 'memory', completeWhen: 'settled', wires: [['down'], [], []] },
    ]);
    n.read.receive({ payload: 'tick' });
    await until(() => slow.received.length === 20, 'pages 1 and 2 through the gate');
    // The ERP step finished its messages, but no key was committed: the reader still waits.
    release();
    await settle();
    assert.strictEqual(orderCalls(), 2, 'page 3 fetched although no key of page 1 was committed');

    const gate = helper.getNode('gate');
    const received = slow.received.slice(0, 10);
    for (const m of received.slice(0, 9)) gate.receive({ _gate: m._gate, commit: true });
    gate.receive({ _gate: received[9]._gate, release: true });
    await until(() => slow.received.length === 25, 'page 3');
    assert.strictEqual(orderCalls(), 3);
    release();
    for (const m of slow.received.slice(10)) gate.receive({ _gate: m._gate, commit: true });
    await until(() => n.summaries.length === 1, 'the summary');
    assert.strictEqual(n.summaries[0].payload.unconfirmed, 0);
  });

  it('sends each order on its own, unchanged and in order, without Node-RED copying them', async () => {
    magento.addOrders(12, { sameSecond: true });
    const clones = sinon.spy(nrUtil.util, 'cloneMessage');
    const n = await load({}, 'legacy-take');
    n.read.receive({ payload: 'tick' });
    await until(() => n.summaries.length === 1, 'the summary');
    const orderMsgs = slow.received;
    assert.strictEqual(orderMsgs.length, 12);
    assert.deepStrictEqual(orderMsgs.map((m) => m.payload), magento.orders.slice(0, 12));
    assert.strictEqual(new Set(orderMsgs.map((m) => m._msgid)).size, 12, 'every order has its own _msgid');
    orderMsgs.forEach((m, i) => {
      assert.strictEqual(m.topic, magento.orders[i].increment_id);
      assert.strictEqual(m.store, 'shop');
      assert.deepStrictEqual(m.cursor, { updatedAt: magento.orders[i].updated_at, entityId: i + 1, page: i < 10 ? 1 : 2, pages: 2, backfill: false });
    });
    const orderClones = clones.getCalls().filter((c) => c.args[0] && c.args[0].payload && c.args[0].payload.entity_id !== undefined);
    assert.strictEqual(orderClones.length, 0, 'orders were deep-copied on send');
    // A node without done() takes an order on receipt: no wait for the timeout.
    assert.strictEqual(n.summaries[0].payload.unconfirmed, 0);
  });

  it('keeps at most "in flight" orders out, also within a page', async () => {
    magento.addOrders(10);
    const n = await load({ maxInFlight: '3' });
    n.read.receive({ payload: 'tick' });
    let most = 0;
    for (let taken = 0; taken < 10; taken++) {
      await until(() => slow.held.length > 0 && (slow.held.length === 3 || slow.received.length === 10), 'orders');
      await settle();
      most = Math.max(most, slow.held.length);
      release(1);
    }
    await until(() => n.summaries.length === 1, 'the summary');
    assert.strictEqual(most, 3);
    assert.strictEqual(slow.received.length, 10);
  });

  it('reads on after the take-over timeout when the next node never completes, with a warning', async () => {
    magento.addOrders(12);
    const n = await load({ pageSize: '5', handoverTimeout: '0.2' });
    n.read.receive({ payload: 'tick' });
    await until(() => n.summaries.length === 1, 'the summary');
    assert.strictEqual(slow.received.length, 12, 'every order was still sent');
    assert.strictEqual(orderCalls(), 3);
    assert.strictEqual(n.summaries[0].payload.orders, 12);
    assert.strictEqual(n.summaries[0].payload.unconfirmed, 12);
    assert.strictEqual(n.warnings.length, 2, 'pages 1-2 (two pages in flight), then page 3');
    // (The test runtime has no message catalog: texts are the catalog keys.)
    assert.match(n.warnings[0], /warn\.stalled|5 orders were not completed/);
    assert.ok(n.statuses.some((s) => s.fill === 'yellow' && /status\.stalled|not taken by the flow/.test(s.text)));
    const last = n.statuses[n.statuses.length - 1];
    assert.strictEqual(last.fill, 'yellow');
    assert.match(last.text, /done-unconfirmed|12 not confirmed taken/);
    // The cursor still moved past every page sent.
    assert.deepStrictEqual(n.summaries[0].payload.cursor, { updatedAt: magento.orders[11].updated_at, entityId: 12 });
  });

  for (const [field, value] of [['maxInFlight', 'x'], ['handoverTimeout', '-1']]) {
    it(`refuses a bad ${field} with the field named`, async () => {
      magento.addOrders(3);
      const n = await load({ [field]: value });
      n.read.receive({ payload: 'tick' });
      await until(() => n.caught.length === 1, 'the error');
      assert.strictEqual(n.caught[0].failure.field, field);
      assert.match(n.caught[0].error.message, new RegExp(field));
      assert.strictEqual(orderCalls(), 0);
    });
  }
});

describe('Handover', () => {
  afterEach(() => sinon.restore());

  it('counts a message taken once every destination completed it; ignores other nodes', async () => {
    const h = new Handover();
    assert.strictEqual(h.track('a', [], undefined), false);
    h.track('m1', ['x', 'y'], 'entry-1');
    assert.strictEqual(h.complete('m1', 'z'), undefined);
    assert.strictEqual(h.complete('m1', 'x'), undefined);
    assert.strictEqual(h.inFlight, 1);
    assert.deepStrictEqual(h.complete('m1', 'y'), { value: 'entry-1' });
    assert.strictEqual(h.inFlight, 0);
    assert.deepStrictEqual(await h.drain(0, 1000), { timedOut: false, abandoned: 0, aborted: false });
  });

  it('drain: waits for room, restarts the timeout on progress, gives up after a stall', async () => {
    const clock = sinon.useFakeTimers();
    const h = new Handover();
    for (const id of ['1', '2', '3']) h.track(id, ['n'], undefined);
    let result;
    h.drain(0, 1000).then((r) => { result = r; });
    await clock.tickAsync(900);
    h.complete('1', 'n');
    await clock.tickAsync(900);
    assert.strictEqual(result, undefined, 'timed out although an order was taken 900 ms ago');
    await clock.tickAsync(200);
    assert.deepStrictEqual(result, { timedOut: true, abandoned: 2, aborted: false });
    assert.strictEqual(h.inFlight, 0);

    h.track('4', ['n'], undefined);
    const controller = new AbortController();
    const waiting = h.drain(0, 1000, controller.signal);
    controller.abort();
    assert.deepStrictEqual(await waiting, { timedOut: false, abandoned: 0, aborted: true });
  });
});
