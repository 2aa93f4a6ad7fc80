'use strict';
const assert = require('assert');
const fs = require('fs');
const helper = require('node-red-node-test-helper');
const gateNode = require('../../dist/nodes/idempotency-gate/idempotency-gate.js');
const { tempDir, delay } = require('../stores/kinds');
const core = (p) => require(`@node-red/nodes/core/${p}`);
const coreNodes = [core('function/10-function.js'), core('common/24-complete.js'), core('common/25-catch.js')];

helper.init(require.resolve('node-red'));

/** Collects what a helper node receives; `until(n)` resolves once n have arrived. */
function collector(node, keep = () => true) {
  const got = [];
  const waiters = [];
  node.on('input', (msg) => {
    if (!keep(msg)) return;
    got.push(msg);
    for (const w of waiters.splice(0)) if (got.length >= w.n) w.resolve(got); else waiters.push(w);
  });
  return {
    got,
    until: (n) => (got.length >= n ? Promise.resolve(got) : new Promise((resolve) => waiters.push({ n, resolve }))),
  };
}

describe('magento-idempotency-gate node', function () {
  this.timeout(15000);
  let userDir;

  beforeEach((done) => {
    userDir = tempDir('gate-node');
    helper.settings({ userDir });
    helper.startServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  async function load(config = {}, extra = []) {
    const flow = [
      { id: 'gate', type: 'magento-idempotency-gate', storeKind: 'sqlite', wires: [['passed'], ['dup'], ['err']], ...config },
      { id: 'passed', type: 'helper' },
      { id: 'dup', type: 'helper' },
      { id: 'err', type: 'helper' },
      ...extra,
    ];
    await helper.load([gateNode, ...coreNodes], flow);
    return {
      gate: helper.getNode('gate'),
      passed: collector(helper.getNode('passed')),
      dup: collector(helper.getNode('dup')),
      err: collector(helper.getNode('err')),
    };
  }

  it('lets exactly one of a burst of same-key messages through; the others are duplicates in flight', async function () {
    const { gate, passed, dup } = await load();
    for (let i = 0; i < 25; i++) gate.receive({ idempotencyKey: 'order_100000001', payload: i });
    await dup.until(24);
    await passed.until(1);
    assert.strictEqual(passed.got.length, 1);
    const p = passed.got[0];
    assert.strictEqual(p.idempotencyKey, 'order_100000001');
    assert.deepStrictEqual(Object.keys(p._gate).sort(), ['attempt', 'id', 'key', 'token']);
    assert.strictEqual(p._gate.id, 'gate');
    assert.ok(dup.got.every((m) => m.gate.status === 'in-flight' && m.gate.key === 'order_100000001'));
  });

  it('commit stores the result; a later duplicate carries it; release lets a retry pass', async function () {
    const { gate, passed, dup } = await load({ resultProperty: 'payload.erpOrderId' });
    gate.receive({ idempotencyKey: 'A', payload: {} });
    gate.receive({ idempotencyKey: 'B', payload: {} });
    await passed.until(2);
    const [a, b] = passed.got;
    gate.receive({ ...a, commit: true, payload: { erpOrderId: 'ERP-77' } });
    gate.receive({ ...b, release: true });
    await delay(50);
    gate.receive({ idempotencyKey: 'A', payload: {} });
    gate.receive({ idempotencyKey: 'B', payload: {} });
    await dup.until(1);
    await passed.until(3);
    assert.strictEqual(dup.got[0].gate.status, 'duplicate');
    assert.strictEqual(dup.got[0].gate.result, 'ERP-77');
    assert.strictEqual(passed.got[2].idempotencyKey, 'B');
  });

  it('commit on return: a Complete node commits, a Catch node releases', async function () {
    const flow = [
      { id: 'work', type: 'function', func: 'if (msg.payload.fail) { throw new Error("ERP said no"); } msg.gate = { result: { erpOrderId: "E-" + msg.payload.n } }; return msg;', wires: [[]] },
      { id: 'on-complete', type: 'complete', scope: ['work'], uncaught: false, wires: [['gate']] },
      { id: 'on-catch', type: 'catch', scope: ['work'], uncaught: false, wires: [['gate']] },
    ];
    const { gate, passed, dup } = await load({ commitOnReturn: true, wires: [['passed', 'work'], ['dup'], ['err']] }, flow);
    gate.receive({ idempotencyKey: 'ok-1', payload: { n: 1 } });
    gate.receive({ idempotencyKey: 'bad-1', payload: { n: 2, fail: true } });
    await passed.until(2);
    // Wait until the commit and release are stored (they go through the gate's input queue).
    const store = () => require('../../dist/lib/stores').openIdempotencyStore({ kind: 'sqlite', name: 'gate-gate', directory: require('path').join(userDir, 'magento-erp') });
    const s = store();
    for (let i = 0; i < 100 && ((await s.peek('ok-1'))?.state !== 'done' || (await s.peek('bad-1')) !== undefined); i++) await delay(20);
    await s.close();
    gate.receive({ idempotencyKey: 'ok-1', payload: { n: 1 } });
    gate.receive({ idempotencyKey: 'bad-1', payload: { n: 2 } });
    await dup.until(1);
    await passed.until(3);
    assert.deepStrictEqual(dup.got[0].gate.result, { erpOrderId: 'E-1' });
    assert.strictEqual(passed.got[2].idempotencyKey, 'bad-1');
    assert.strictEqual(passed.got[2]._gate.attempt, 1, 'a released key starts over');
  });

  it('missing or empty key goes to output 3 with the field named, never through', async function () {
    const { gate, passed, err } = await load({ keyFrom: 'template', keyTemplate: 'order_{{payload.increment_id}}_{{payload.created_at}}' });
    gate.receive({ payload: { increment_id: '100000001' } });
    gate.receive({ payload: { increment_id: '', created_at: '2024-05-01' } });
    gate.receive({ payload: { increment_id: '100000001', created_at: '2024-05-01 10:00:00' } });
    await err.until(2);
    await passed.until(1);
    assert.strictEqual(err.got[0].failure.errorClass, 'validation');
    assert.strictEqual(err.got[0].failure.field, 'msg.payload.created_at');
    assert.match(err.got[0].failure.message, /missing or empty/);
    assert.strictEqual(err.got[1].failure.field, 'msg.payload.increment_id');
    assert.strictEqual(passed.got[0].idempotencyKey, 'order_100000001_2024-05-01 10:00:00');
  });

  it('reads the key from an http in request header', async function () {
    const { gate, passed, err } = await load({ keyFrom: 'header', keyHeader: 'X-Magento-Event-Id' });
    gate.receive({ req: { headers: { 'x-magento-event-id': 'evt-1' } }, payload: {} });
    gate.receive({ headers: { 'X-Magento-Event-Id': 'evt-2' }, payload: {} });
    gate.receive({ req: { headers: {} }, payload: {} });
    await passed.until(2);
    await err.until(1);
    assert.deepStrictEqual(passed.got.map((m) => m.idempotencyKey), ['evt-1', 'evt-2']);
    assert.strictEqual(err.got[0].failure.field, 'header x-magento-event-id');
  });

  it('forget lets an order be sent again on purpose', async function () {
    const { gate, passed, dup } = await load();
    gate.receive({ idempotencyKey: 'K', payload: 1 });
    await passed.until(1);
    gate.receive({ ...passed.got[0], commit: true });
    gate.receive({ command: 'forget', payload: 'K' });
    await dup.until(1);
    assert.deepStrictEqual(dup.got[0].gate, { command: 'forget', key: 'K', forgotten: true });
    gate.receive({ idempotencyKey: 'K', payload: 2 });
    await passed.until(2);
  });

  it('a lapsed lease frees the key of a holder that died', async function () {
    const { gate, passed, dup } = await load({ leaseSeconds: '0.1' });
    gate.receive({ idempotencyKey: 'L', payload: 1 });
    await passed.until(1);
    await delay(150);
    gate.receive({ idempotencyKey: 'L', payload: 2 });
    await passed.until(2);
    assert.strictEqual(passed.got[1]._gate.attempt, 2);
    assert.strictEqual(dup.got.length, 0);
  });

  it('done keys are forgotten after the TTL', async function () {
    const { gate, passed } = await load({ ttl: '0.00005', ttlUnit: 'hours' });
    gate.receive({ idempotencyKey: 'T', payload: 1 });
    await passed.until(1);
    gate.receive({ ...passed.got[0], commit: true });
    await delay(300);
    gate.receive({ idempotencyKey: 'T', payload: 2 });
    await passed.until(2);
  });

  it('waits for the first holder when configured, then answers with its result', async function () {
    const { gate, passed, dup } = await load({ inFlight: 'wait', waitSeconds: '5' });
    gate.receive({ idempotencyKey: 'W', payload: 1 });
    await passed.until(1);
    gate.receive({ idempotencyKey: 'W', payload: 2 });
    await delay(150);
    assert.strictEqual(dup.got.length, 0, 'still waiting');
    gate.receive({ ...passed.got[0], gate: { action: 'commit', result: 'E-9' } });
    await dup.until(1);
    assert.strictEqual(dup.got[0].gate.status, 'duplicate');
    assert.strictEqual(dup.got[0].gate.result, 'E-9');
  });

  it('keeps done keys across a restart of the runtime (SQLite)', async function () {
    let { gate, passed } = await load();
    gate.receive({ idempotencyKey: 'R', payload: 1 });
    await passed.until(1);
    gate.receive({ ...passed.got[0], commit: true, gate: { result: 'E-R' } });
    await delay(50);
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    await new Promise((r) => helper.startServer(r));
    const again = await load();
    again.gate.receive({ idempotencyKey: 'R', payload: 2 });
    await again.dup.until(1);
    assert.strictEqual(again.dup.got[0].gate.result, 'E-R');
  });

  it('a message the retry queue re-sends takes back the key its lost attempt held, even across a restart', async function () {
    let { gate, passed, dup } = await load();
    gate.receive({ idempotencyKey: 'Q', payload: 1, _retry: { id: 'entry-1' } });
    await passed.until(1);
    // That attempt is lost with the runtime: the key stays in flight under its lease.
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    await new Promise((r) => helper.startServer(r));
    ({ gate, passed, dup } = await load());
    gate.receive({ idempotencyKey: 'Q', payload: 'poll copy' });
    gate.receive({ idempotencyKey: 'Q', payload: 'other entry', _retry: { id: 'entry-2' } });
    await dup.until(2);
    assert.deepStrictEqual(dup.got.map((m) => m.gate.status), ['in-flight', 'in-flight']);
    gate.receive({ idempotencyKey: 'Q', payload: 'entry-1 again', _retry: { id: 'entry-1' } });
    await passed.until(1);
    assert.strictEqual(passed.got[0].payload, 'entry-1 again');
    assert.strictEqual(passed.got[0]._gate.attempt, 2);
  });

  it('frees keys left in flight by the previous Node-RED process when it starts, if asked (SQLite)', async function () {
    // What a process that stopped under its messages leaves behind: keys in flight, taken before this process started.
    const { openIdempotencyStore } = require('../../dist/lib/stores');
    const sqlite3 = require('sqlite3');
    const path = require('path');
    const seeded = openIdempotencyStore({ kind: 'sqlite', name: 'gate-orphans', directory: path.join(userDir, 'magento-erp') });
    await seeded.acquire('kept', 600000);
    await seeded.close();
    const file = path.join(userDir, 'magento-erp', 'gate-orphans.sqlite');
    const before = Math.floor(performance.timeOrigin) - 60000;
    await new Promise((resolve, reject) => {
      const db = new sqlite3.Database(file, (err) => {
        if (err) return reject(err);
        db.run("INSERT INTO gate (key, state, token, created_at, updated_at, lease_until, attempts) VALUES ('O', 'in-flight', 't-old', ?, ?, ?, 1)",
          [before, before, Date.now() + 600000], (e) => db.close(() => (e ? reject(e) : resolve())));
      });
    });
    // Without the option the old key waits for its lease (a retry queue may still hold its message).
    let held = await load({ keySpace: 'orphans' });
    held.gate.receive({ idempotencyKey: 'O', payload: 'while the lease runs' });
    await held.dup.until(1);
    assert.deepStrictEqual(held.dup.got.map((m) => m.gate.status), ['in-flight']);
    await helper.unload();
    const { gate, passed, dup } = await load({ keySpace: 'orphans', freeOrphans: true });
    gate.receive({ idempotencyKey: 'O', payload: 'retry after the restart' });
    gate.receive({ idempotencyKey: 'kept', payload: 'taken in this process' });
    await passed.until(1);
    await dup.until(2);
    assert.strictEqual(passed.got[0].payload, 'retry after the restart');
    assert.strictEqual(passed.got[0]._gate.attempt, 2);
    // The freed key is reported once, so the flow can fetch that work again; the key taken now stays in flight.
    const orphaned = dup.got.filter((m) => m.gate.status === 'orphaned');
    assert.deepStrictEqual(orphaned.map((m) => [m.topic, m.idempotencyKey, m.gate.key, m.gate.attempts]), [['orphaned', 'O', 'O', 1]]);
    assert.deepStrictEqual(dup.got.filter((m) => m.gate.status === 'in-flight').map((m) => m.payload), ['taken in this process']);
  });

  /** A gate whose completions (done()) a Complete node reports to the helper `completed`. */
  async function loadWatched(config, extra = []) {
    const watch = [
      { id: 'on-complete', type: 'complete', scope: ['gate'], uncaught: false, wires: [['completed']] },
      { id: 'completed', type: 'helper' },
      ...extra,
    ];
    const nodes = await load(config, watch);
    const warnings = [];
    const warn = nodes.gate.warn.bind(nodes.gate);
    nodes.gate.warn = (w) => { warnings.push(String(w)); warn(w); };
    // The commit and release messages complete too: only the messages that went through count here.
    const completed = collector(helper.getNode('completed'), (m) => m.commit === undefined && m.release === undefined && m.park === undefined);
    return { ...nodes, completed, warnings };
  }
  const turns = async (n = 10) => { for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r)); };

  it('completes a passed message at once by default (flows made before "Complete")', async function () {
    const { gate, passed, completed } = await loadWatched({ storeKind: 'memory' });
    gate.receive({ idempotencyKey: 'N', payload: 1 });
    await passed.until(1);
    await completed.until(1);
    assert.strictEqual(completed.got[0].idempotencyKey, 'N');
  });

  it('complete when settled: a passed message completes when its key is committed or released, or its lease ends', async function () {
    const { gate, passed, dup, completed, warnings } = await loadWatched({ storeKind: 'memory', completeWhen: 'settled', leaseSeconds: '2' });
    for (const key of ['A', 'B', 'C']) gate.receive({ idempotencyKey: key, payload: key });
    gate.receive({ idempotencyKey: 'A', payload: 'repeat' });
    await passed.until(3);
    await dup.until(1);
    // Repeats complete at once; the three that passed wait for their keys.
    await completed.until(1);
    await turns();
    assert.deepStrictEqual(completed.got.map((m) => m.payload), ['repeat']);

    const [a, b] = passed.got;
    gate.receive({ _gate: a._gate, idempotencyKey: 'A', commit: true });
    await completed.until(2);
    assert.strictEqual(completed.got[1].payload, 'A', 'the message that passed completes, not the commit message');
    gate.receive({ _gate: b._gate, idempotencyKey: 'B', release: true });
    await completed.until(3);
    assert.strictEqual(completed.got[2].payload, 'B');
    assert.deepStrictEqual(warnings, []);

    // Nothing comes back for C: its message completes when its lease runs out, with a warning naming the key.
    await completed.until(4);
    assert.strictEqual(completed.got[3].payload, 'C');
    assert.strictEqual(warnings.length, 1);
    assert.match(warnings[0], /unsettled|C/);
  });

  it('complete when settled: a retry taking back its key completes the lost attempt; a stale commit completes nothing', async function () {
    const { gate, passed, completed } = await loadWatched({ storeKind: 'memory', completeWhen: 'settled' });
    gate.receive({ idempotencyKey: 'R', payload: 'attempt 1', _retry: { id: 'entry-1' } });
    await passed.until(1);
    gate.receive({ idempotencyKey: 'R', payload: 'attempt 2', _retry: { id: 'entry-1' } });
    await passed.until(2);
    await completed.until(1);
    assert.strictEqual(completed.got[0].payload, 'attempt 1');
    // The first attempt's commit is stale (another token holds the key): attempt 2 keeps waiting.
    gate.receive({ _gate: passed.got[0]._gate, commit: true });
    await turns(50);
    assert.strictEqual(completed.got.length, 1);
    gate.receive({ _gate: passed.got[1]._gate, commit: true });
    await completed.until(2);
    assert.strictEqual(completed.got[1].payload, 'attempt 2');
  });

  it('park: a failed attempt keeps its key for the retry queue; copies are held back, the retried message takes it, even after a restart', async function () {
    let { gate, passed, dup, err, completed, warnings } = await loadWatched({ completeWhen: 'settled', freeOrphans: true, keySpace: 'parking' });
    gate.receive({ idempotencyKey: 'order_P', payload: 'first attempt' });
    await passed.until(1);
    const first = passed.got[0];
    // The ERP did not answer: the key is parked (the message went to the retry queue); the attempt counts as completed.
    gate.receive({ _gate: first._gate, idempotencyKey: 'order_P', park: true, gate: { action: 'park', leaseSeconds: 600 } });
    await completed.until(1);
    assert.strictEqual(completed.got[0].payload, 'first attempt');
    // A poll re-reading the order meanwhile: held back, no second ERP call.
    gate.receive({ idempotencyKey: 'order_P', payload: 'poll copy' });
    await dup.until(1);
    assert.deepStrictEqual([dup.got[0].payload, dup.got[0].gate.status], ['poll copy', 'in-flight']);
    assert.ok(Date.parse(dup.got[0].gate.leaseUntil) > Date.now() + 500000, 'parked for the lease asked');

    // Node-RED restarts; "free keys left by the previous run" leaves a parked key alone (its message is in the queue).
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    await new Promise((r) => helper.startServer(r));
    ({ gate, passed, dup, err, completed, warnings } = await loadWatched({ completeWhen: 'settled', freeOrphans: true, keySpace: 'parking' }));
    gate.receive({ idempotencyKey: 'order_P', payload: 'poll copy after the restart' });
    await dup.until(1);
    assert.deepStrictEqual(dup.got.map((m) => m.gate.status), ['in-flight'], 'not reported orphaned, still held');
    gate.receive({ idempotencyKey: 'order_P', payload: 'retried', _retry: { id: 'entry-7' } });
    await passed.until(1);
    assert.strictEqual(passed.got[0].payload, 'retried');
    assert.strictEqual(passed.got[0]._gate.attempt, 2);
    gate.receive({ _gate: passed.got[0]._gate, commit: true });
    await completed.until(1);
    gate.receive({ idempotencyKey: 'order_P', payload: 'poll copy once delivered' });
    await dup.until(2);
    assert.strictEqual(dup.got[1].gate.status, 'duplicate');
    // Asked for explicitly, parking wins over the release a returning failure means with "commit on return".
    await helper.unload();
    ({ gate, passed, dup, err, completed, warnings } = await loadWatched({ completeWhen: 'settled', commitOnReturn: true, keySpace: 'parking' }));
    gate.receive({ idempotencyKey: 'order_R', payload: 'r' });
    await passed.until(1);
    gate.receive({ ...passed.got[0], failure: { errorClass: 'transient', message: 'ERP down' }, park: true });
    await completed.until(1);
    gate.receive({ idempotencyKey: 'order_R', payload: 'poll copy of r' });
    await dup.until(1);
    assert.strictEqual(dup.got[0].gate.status, 'in-flight', 'parked, not released');
    // A park by a token that no longer holds the key changes nothing and says so; a bad lease names the field.
    gate.receive({ _gate: first._gate, idempotencyKey: 'order_P', park: true });
    gate.receive({ idempotencyKey: 'order_Q', payload: 'q' });
    await passed.until(2);
    gate.receive({ _gate: passed.got[1]._gate, gate: { action: 'park', leaseSeconds: -5 } });
    await err.until(1);
    assert.strictEqual(err.got[0].failure.field, 'gate.leaseSeconds');
    gate.receive({ idempotencyKey: 'order_Q', payload: 'q again' });
    await dup.until(2);
    assert.strictEqual(dup.got[1].gate.status, 'in-flight', 'a refused park left the key with its holder');
    assert.deepStrictEqual(warnings, []);
  });

  it('park of a key another holder took since: ignored with a warning', async function () {
    const { gate, passed, dup, warnings } = await loadWatched({ storeKind: 'memory', leaseSeconds: '0.05' });
    gate.receive({ idempotencyKey: 'S', payload: 'slow attempt' });
    await passed.until(1);
    await delay(80);
    gate.receive({ idempotencyKey: 'S', payload: 'after the lease' });
    await passed.until(2);
    gate.receive({ _gate: passed.got[0]._gate, park: true });
    await turns(50);
    assert.strictEqual(warnings.length, 1);
    assert.match(warnings[0], /staleParking|parking of key S/);
    gate.receive({ idempotencyKey: 'S', payload: 'copy', _retry: { id: 'e1' } });
    await dup.until(1);
    assert.strictEqual(dup.got[0].gate.status, 'in-flight', 'the new holder keeps the key; nothing was parked');
  });

  it('complete when settled: the commit or release may come back through another gate node on the same key space', async function () {
    const second = [
      { id: 'gate-b', type: 'magento-idempotency-gate', storeKind: 'sqlite', keySpace: 'shared', completeWhen: 'settled', wires: [['passed-b'], ['dup-b'], []] },
      { id: 'passed-b', type: 'helper' },
      { id: 'dup-b', type: 'helper' },
    ];
    const { gate, passed, completed, warnings } = await loadWatched({ storeKind: 'sqlite', keySpace: 'shared', completeWhen: 'settled' }, second);
    const gateB = helper.getNode('gate-b');
    const dupB = collector(helper.getNode('dup-b'));
    gate.receive({ idempotencyKey: 'X', payload: 'x' });
    gate.receive({ idempotencyKey: 'Y', payload: 'y' });
    await passed.until(2);
    // The same key space: gate B sees the keys gate A passed.
    gateB.receive({ idempotencyKey: 'X', payload: 'x through B' });
    await dupB.until(1);
    assert.strictEqual(dupB.got[0].gate.status, 'in-flight');
    // Their commit and release come back through gate B: gate A's messages complete at once, not at the lease's end.
    gateB.receive({ _gate: passed.got[0]._gate, idempotencyKey: 'X', commit: true });
    await completed.until(1);
    assert.strictEqual(completed.got[0].payload, 'x');
    gateB.receive({ _gate: passed.got[1]._gate, idempotencyKey: 'Y', release: true });
    await completed.until(2);
    assert.strictEqual(completed.got[1].payload, 'y');
    assert.deepStrictEqual(warnings, []);
  });

  it('a bad key template is a configuration error; messages go to output 3', async function () {
    const { gate, err } = await load({ keyFrom: 'template', keyTemplate: '{{#payload}}x{{/payload}}' });
    gate.receive({ payload: {} });
    await err.until(1);
    assert.strictEqual(err.got[0].failure.field, 'keyTemplate');
  });
});
