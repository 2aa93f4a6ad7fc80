'use strict';
const assert = require('assert');
const sinon = require('sinon');
const { RetryQueue } = require('../../dist/lib/retry/queue');
const { DEFAULT_POLICY } = require('../../dist/lib/retry/policy');
const { openRetryQueueStore } = require('../../dist/lib/stores');
const { IntegrationError } = require('../../dist/lib/errors');
const { tempDir } = require('../stores/kinds');

function recorder() {
  const r = { emitted: [], dead: [], alerts: [], errors: [] };
  r.events = {
    emit: (m) => r.emitted.push(m),
    deadLetter: (m) => r.dead.push(m),
    alert: (a) => r.alerts.push(a),
    change: () => undefined,
    error: (e) => r.errors.push(e),
  };
  return r;
}

// The SQLite store answers from libuv's thread pool, which fake timers do not drive: wait (in real
// time, setImmediate is not faked) until what the fake tick set off has come back from the disk.
async function until(condition, what) {
  const deadline = process.hrtime.bigint() + 10_000_000_000n;
  while (!condition() && process.hrtime.bigint() < deadline) await new Promise((resolve) => setImmediate(resolve));
  assert.ok(condition(), `timed out waiting: ${what}`);
}

const transient = (extra = {}) => ({ failure: new IntegrationError('transient', 'HTTP 503', { status: 503, target: 'shop-a', ...extra }).toJSON() });
const policy = (over = {}) => ({ ...structuredClone(DEFAULT_POLICY), backoff: { baseMs: 1000, maxMs: 60000, factor: 2 }, maxAttempts: 4, maxAgeMs: 0, ...over });

describe('retry queue engine', function () {
  let clock;
  let queue;
  beforeEach(() => { clock = sinon.useFakeTimers({ now: Date.parse('2024-05-01T10:00:00Z'), toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] }); });
  afterEach(async () => { queue?.stop(); queue = undefined; clock.restore(); });

  function make(r, over = {}) {
    const store = over.store ?? openRetryQueueStore({ kind: 'memory', name: 'q' });
    const { policy: policyOver, ...rest } = over;
    queue = new RetryQueue({ events: r.events, policy: policy(policyOver), random: () => 0.5, attemptLeaseMs: 10000, noProgressMs: 0, ...rest, store });
    return queue;
  }

  it('follows the backoff schedule (full jitter, Retry-After floor) and dead-letters after max attempts with the history', async function () {
    const r = recorder();
    const q = make(r);
    await q.start();
    const res = await q.accept({ payload: { sku: 'A' }, ...transient() });
    assert.strictEqual(res.outcome, 'scheduled');
    assert.strictEqual(res.delayMs, 500);
    await clock.tickAsync(499);
    assert.strictEqual(r.emitted.length, 0);
    await clock.tickAsync(1);
    assert.strictEqual(r.emitted.length, 1);
    let msg = r.emitted[0];
    assert.deepStrictEqual(msg.payload, { sku: 'A' });
    assert.strictEqual(msg.retry.attempt, 1);
    assert.strictEqual(msg.retry.firstFailedAt, '2024-05-01T10:00:00.000Z');

    // Second failure asks for 30 s (Retry-After): the window (1000 ms · 0.5) is shorter, Retry-After wins.
    await q.accept({ ...msg, ...transient({ retryAfterMs: 30000 }) });
    await clock.tickAsync(29999);
    assert.strictEqual(r.emitted.length, 1);
    await clock.tickAsync(1);
    assert.strictEqual(r.emitted.length, 2);
    msg = r.emitted[1];
    assert.strictEqual(msg.retry.attempt, 2);

    await q.accept({ ...msg, ...transient() });
    await clock.tickAsync(2000);
    msg = r.emitted[2];
    assert.strictEqual(msg.retry.attempt, 3);
    const last = await q.accept({ ...msg, ...transient() });
    assert.strictEqual(last.outcome, 'dead');
    assert.strictEqual(r.dead.length, 1);
    assert.strictEqual(r.dead[0].deadLetter.reason, 'max attempts');
    assert.deepStrictEqual(r.dead[0].retry.history.map((h) => [h.attempt, h.delayMs]), [[1, 500], [2, 30000], [3, 2000], [4, undefined]]);
    const stored = await q.store.get(last.entry.id);
    assert.strictEqual(stored.state, 'dead');
    assert.strictEqual(stored.history.length, 4);
  });

  it('continues the same entry when an http request node overwrote msg.retry with 0 (reads msg._retry.id)', async function () {
    const r = recorder();
    const q = make(r);
    await q.start();
    await q.accept({ payload: 'x', ...transient() });
    await clock.tickAsync(500);
    const out = r.emitted[0];
    assert.strictEqual(out._retry.id, out.retry.id);
    const again = await q.accept({ ...out, retry: 0, statusCode: 503, error: { message: 'HTTP 503' } });
    assert.strictEqual(again.entry.id, out.retry.id);
    assert.strictEqual(again.entry.attempt, 2);
    assert.strictEqual((await q.store.counts()).pending, 1);
  });

  it('dead-letters validation failures at once and keeps them', async function () {
    const r = recorder();
    const q = make(r);
    await q.start();
    const res = await q.accept({ payload: 1, failure: new IntegrationError('validation', 'qty: must be a number', { field: 'qty' }).toJSON() });
    assert.strictEqual(res.outcome, 'dead');
    assert.strictEqual(r.dead[0].deadLetter.reason, 'validation');
    assert.deepStrictEqual((await q.store.counts()).dead, 1);
  });

  it('retry and discard commands: one id, several, all dead letters', async function () {
    const r = recorder();
    const q = make(r);
    await q.start();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await q.accept({ payload: i, failure: new IntegrationError('permanent', 'no').toJSON() })).entry.id);
    const listed = await q.command('list', { state: 'dead' });
    assert.strictEqual(listed.count, 3);
    const retried = await q.command('retry', { ids: [ids[0]] });
    assert.deepStrictEqual(retried.retried, [ids[0]]);
    await clock.tickAsync(0);
    assert.strictEqual(r.emitted.length, 1);
    assert.strictEqual(r.emitted[0].payload, 0);
    assert.strictEqual(r.emitted[0].retry.attempt, 0, 'a fresh budget');
    assert.strictEqual(r.emitted[0].retry.history.length, 1, 'the history is kept');
    const discarded = await q.command('discard', ids[1]);
    assert.deepStrictEqual(discarded.discarded, [ids[1]]);
    const all = await q.command('retry', 'all');
    assert.deepStrictEqual(all.retried, [ids[2]]);
    assert.deepStrictEqual(await q.command('discard', { ids: ['nope'] }), { command: 'discard', discarded: [], missing: ['nope'], refused: [] });
    await assert.rejects(() => q.command('retry', {}), /payload: name the entries/);
    await assert.rejects(() => q.command('explode', {}), /command: must be one of/);
  });

  it('refuses a new failure when full, without storing it', async function () {
    const r = recorder();
    const q = make(r, { maxQueueSize: 2 });
    await q.start();
    await q.accept({ payload: 1, ...transient() });
    await q.accept({ payload: 2, ...transient() });
    await assert.rejects(() => q.accept({ payload: 3, ...transient() }), (err) => err.errorClass === 'transient' && /retry queue is full \(2 messages waiting\)/.test(err.message));
    assert.strictEqual((await q.store.counts()).pending, 2);
  });

  it('circuit breaker: a target that keeps failing is not hammered; its retries wait for the breaker', async function () {
    const r = recorder();
    const q = make(r, { breaker: { failureThreshold: 2, openMs: 60000, maxOpenMs: 600000, probeTimeoutMs: 5000 } });
    await q.start();
    await q.accept({ payload: 1, ...transient() });
    await q.accept({ payload: 2, ...transient() });
    await q.accept({ payload: 3, ...transient({ target: 'erp' }) });
    await clock.tickAsync(1000);
    assert.deepStrictEqual(r.emitted.map((m) => m.payload), [3], 'only the other target is retried');
    const stats = await q.command('stats');
    assert.strictEqual(stats.circuits.find((c) => c.target === 'shop-a').state, 'open');
    await clock.tickAsync(59000);
    assert.strictEqual(r.emitted.length, 2, 'one probe after the open period');
    await clock.tickAsync(4000);
    assert.strictEqual(r.emitted.length, 2, 'the others wait for the probe');
    await clock.tickAsync(10000);
    // The probe's lease ended without a failure coming back: it went through, the circuit closes.
    assert.strictEqual(r.emitted.length, 3);
  });

  describe('circuit breaker recovery', function () {
    const breaker = { failureThreshold: 2, openMs: 60000, maxOpenMs: 600000, probeTimeoutMs: 10000 };
    const payloads = (r) => r.emitted.map((m) => m.payload).sort();
    const circuit = async (q, target) => (await q.command('stats')).circuits.find((c) => c.target === target);

    it('an acknowledged probe closes the circuit: the retries it held go at once, in claim batches, later backoff times untouched', async function () {
      const r = recorder();
      const q = make(r, { breaker, claimBatch: 2 });
      await q.start();
      for (const n of [1, 2, 3, 4, 5]) await q.accept({ payload: n, ...transient() });
      await q.accept({ payload: 'later', ...transient({ retryAfterMs: 90000 }) });
      await q.accept({ payload: 'erp', ...transient({ target: 'erp' }) });
      await clock.tickAsync(60000);
      assert.deepStrictEqual(payloads(r).filter((p) => p !== 'erp').length, 1, 'one probe for shop-a after the open period');
      await clock.tickAsync(1000);
      const probe = r.emitted.find((m) => m.payload !== 'erp');
      const ack = await q.accept({ payload: probe.payload, retry: probe.retry });
      assert.strictEqual(ack.outcome, 'acknowledged');
      await clock.tickAsync(0);
      assert.deepStrictEqual(payloads(r), [1, 2, 3, 4, 5, 'erp'], 'every held retry of shop-a is re-emitted when the probe succeeds, not at the end of its lease');
      assert.strictEqual(await circuit(q, 'shop-a'), undefined, 'the circuit is closed');
      await clock.tickAsync(90000 - 61001);
      assert.ok(!payloads(r).includes('later'), 'a retry whose own backoff ends later keeps its time');
      await clock.tickAsync(1);
      assert.ok(payloads(r).includes('later'));
    });

    it('a probe whose lease ends with no failure back closes the circuit: the held retries go then, without a second probe', async function () {
      const r = recorder();
      const q = make(r, { breaker });
      await clock.tickAsync(1000);
      await q.start();
      for (const n of [1, 2, 3]) await q.accept({ payload: n, ...transient() });
      await clock.tickAsync(60000);
      assert.strictEqual(r.emitted.length, 1, 'the probe');
      await clock.tickAsync(9999);
      assert.strictEqual(r.emitted.length, 1, 'the others wait for the probe\'s outcome');
      await clock.tickAsync(1);
      assert.deepStrictEqual(payloads(r), [1, 2, 3], 'the probe\'s lease ended: it went through and the rest follow at once');
      assert.deepStrictEqual(await q.store.counts(), { pending: 0, inFlight: 2, dead: 0, finished: 1 });
      assert.strictEqual(await circuit(q, 'shop-a'), undefined);
    });

    it('a failed probe re-opens the circuit for twice as long; the held retries wait for that period, then the next probe decides', async function () {
      const r = recorder();
      const q = make(r, { breaker });
      await q.start();
      for (const n of [1, 2, 3]) await q.accept({ payload: n, ...transient() });
      await clock.tickAsync(61000);
      assert.strictEqual(r.emitted.length, 1);
      const failed = await q.accept({ ...r.emitted[0], ...transient() });
      assert.strictEqual(failed.outcome, 'scheduled');
      const open = await circuit(q, 'shop-a');
      assert.strictEqual(open.state, 'open');
      assert.strictEqual(open.openUntil, new Date(Date.parse('2024-05-01T10:00:00Z') + 61000 + 120000).toISOString(), 'the breaker\'s own backoff: twice the open period');
      const reopenedAt = Date.parse(open.openUntil);
      const held = (await q.command('list', { state: 'pending' })).entries.filter((e) => e.id !== failed.entry.id);
      assert.deepStrictEqual(held.map((e) => e.nextAttemptAt), [reopenedAt, reopenedAt], 'the held retries now wait for the new open period');
      await clock.tickAsync(reopenedAt - Date.now() - 1);
      assert.strictEqual(r.emitted.length, 1, 'nothing goes while the circuit is open again');
      await clock.tickAsync(1);
      assert.strictEqual(r.emitted.length, 2, 'one new probe');
      await q.accept({ payload: r.emitted[1].payload, retry: r.emitted[1].retry });
      await clock.tickAsync(0);
      assert.strictEqual(r.emitted.length, 4, 'its success releases the other two');
      assert.deepStrictEqual(r.emitted.map((m) => m.payload).slice(1).sort(), [1, 2, 3]);
    });
  });

  it('auth failures pause the queue without burning attempts; resume re-emits', async function () {
    const r = recorder();
    const q = make(r);
    await q.start();
    await q.accept({ payload: 'x', ...transient() });
    const res = await q.accept({ payload: 'y', failure: new IntegrationError('auth', 'The consumer isn\'t authorized', { status: 401, target: 'shop-a' }).toJSON() });
    assert.strictEqual(res.outcome, 'paused');
    assert.strictEqual(res.entry.attempt, 1);
    await clock.tickAsync(60000);
    assert.strictEqual(r.emitted.length, 0, 'nothing re-emitted while paused');
    assert.strictEqual(r.alerts[0].type, 'paused');
    assert.match(r.alerts[0].message, /resume/);
    assert.ok((await q.stats()).paused);
    await q.command('resume');
    await clock.tickAsync(0);
    assert.deepStrictEqual(r.emitted.map((m) => m.payload).sort(), ['x', 'y']);
  });

  it('finishes an in-flight entry when its lease ends without a failure; ack finishes early; purge-finished clears them', async function () {
    const r = recorder();
    const q = make(r);
    await q.start();
    await q.accept({ payload: 1, ...transient() });
    await q.accept({ payload: 2, ...transient() });
    await clock.tickAsync(500);
    assert.strictEqual(r.emitted.length, 2);
    const ack = await q.accept({ payload: 1, retry: r.emitted[0].retry });
    assert.strictEqual(ack.outcome, 'acknowledged');
    assert.deepStrictEqual(await q.store.counts(), { pending: 0, inFlight: 1, dead: 0, finished: 1 });
    // Lease (10 s) plus one sweep period (a quarter lease).
    await clock.tickAsync(12500);
    assert.deepStrictEqual(await q.store.counts(), { pending: 0, inFlight: 0, dead: 0, finished: 2 });
    assert.deepStrictEqual(await q.command('purge-finished'), { command: 'purge-finished', removed: 2 });
  });

  it('raises a no-progress alert once while messages wait and nothing is delivered', async function () {
    const r = recorder();
    const q = make(r, { noProgressMs: 60000, policy: { maxAttempts: 100 } });
    await q.start();
    await q.accept({ payload: 1, ...transient() });
    for (let i = 0; i < 8; i++) {
      await clock.tickAsync(10000);
      for (const m of r.emitted.splice(0)) await q.accept({ ...m, ...transient({ target: `t${i}` }) });
    }
    const alerts = r.alerts.filter((a) => a.type === 'no-progress');
    assert.strictEqual(alerts.length, 1);
    assert.match(alerts[0].message, /no message delivered or settled for \d+ s while 1 wait/);
  });

  it('refuses a message with neither failure nor error, naming the field', async function () {
    const q = make(recorder());
    await q.start();
    await assert.rejects(() => q.accept({ payload: 1 }), /failure: the message carries neither msg.failure nor msg.error/);
  });

  it('restart with SQLite: pending retries fire after restart, interrupted in-flight ones are re-armed', async function () {
    const directory = tempDir('queue-restart');
    const r1 = recorder();
    const q1 = make(r1, { store: openRetryQueueStore({ kind: 'sqlite', name: 'q', directory }) });
    await q1.start();
    await q1.accept({ payload: 'later', ...transient({ retryAfterMs: 5000 }) });
    await q1.accept({ payload: 'now', ...transient() });
    await clock.tickAsync(500);
    await until(() => r1.emitted.length > 0, 'the first retry');
    assert.deepStrictEqual(r1.emitted.map((m) => m.payload), ['now']);
    q1.stop();
    await q1.store.close();

    const r2 = recorder();
    const q2 = make(r2, { store: openRetryQueueStore({ kind: 'sqlite', name: 'q', directory }) });
    await q2.start();
    await clock.tickAsync(0);
    assert.deepStrictEqual(r2.emitted.map((m) => m.payload), ['now'], 'the interrupted one again at once');
    assert.match(r2.emitted[0].retry.history.at(-1).message, /interrupted/);
    await clock.tickAsync(4499);
    assert.deepStrictEqual(r2.emitted.map((m) => m.payload), ['now']);
    await clock.tickAsync(1);
    await until(() => r2.emitted.length > 1, 'the later retry');
    assert.deepStrictEqual(r2.emitted.map((m) => m.payload), ['now', 'later']);
    q2.stop();
    await q2.store.close();
  });
});

describe('retry queue engine on a store that answers asynchronously (SQLite, Redis)', function () {
  // Node-RED hands an ack and a refusal of the same re-emitted message to the queue as two messages;
  // with a store that answers from the disk or the network their reads and writes could interleave,
  // and the later write (from a stale read) would win. Each entry's read-modify-write takes its turn.
  let directory;
  let queue;
  beforeEach(() => { directory = tempDir('queue-async'); });
  afterEach(async () => {
    queue?.stop();
    await queue?.store.close();
    queue = undefined;
    require('fs').rmSync(directory, { recursive: true, force: true });
  });

  it('an ack and a refusal of the same retry, arriving together: the refusal is kept as a dead letter with its history', async function () {
    const r = recorder();
    queue = new RetryQueue({ events: r.events, policy: policy({ backoff: { baseMs: 1, maxMs: 1, factor: 1 } }), random: () => 0, attemptLeaseMs: 60000, noProgressMs: 0, store: openRetryQueueStore({ kind: 'sqlite', name: 'q', directory }) });
    await queue.start();
    for (let round = 0; round < 10; round++) {
      const first = await queue.accept({ payload: { round }, ...transient() });
      await until(() => r.emitted.some((m) => m.payload.round === round), `round ${round} re-emitted`);
      const retried = r.emitted.find((m) => m.payload.round === round);
      const refusal = { ...retried, failure: new IntegrationError('validation', 'refused by Magento', { target: 'shop-a' }).toJSON() };
      const ack = { _retry: retried._retry };
      await Promise.all(round % 2 ? [queue.accept(ack), queue.accept(refusal)] : [queue.accept(refusal), queue.accept(ack)]);
      const entry = await queue.store.get(first.entry.id);
      assert.strictEqual(entry.state, 'dead', `round ${round}: ${entry.state}`);
      assert.deepStrictEqual(entry.history.map((h) => h.errorClass), ['transient', 'validation'], `round ${round}`);
    }
  });
});
