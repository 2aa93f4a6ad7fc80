'use strict';
const assert = require('assert');
const sinon = require('sinon');
const { RateLimiter } = require('../../dist/lib/magento/rate-limiter');

describe('RateLimiter', function () {
  let clock;
  beforeEach(function () { clock = sinon.useFakeTimers({ now: 1700000000000 }); });
  afterEach(function () { clock.restore(); });

  it('queues calls above the rate instead of failing them', async function () {
    const limiter = new RateLimiter({ maxConcurrency: 10, requestsPerSecond: 2 });
    const started = [];
    const results = [];
    const all = [];
    for (let i = 0; i < 6; i++) {
      all.push(limiter.schedule(async () => { started.push(Date.now() - 1700000000000); return i; }).then((v) => results.push(v)));
    }
    await clock.tickAsync(0);
    assert.deepStrictEqual(started, [0, 0], 'a burst of one second\'s worth starts at once');
    assert.strictEqual(limiter.pending, 4);
    await clock.tickAsync(500);
    assert.strictEqual(started.length, 3);
    await clock.tickAsync(1500);
    await Promise.all(all);
    assert.deepStrictEqual(started, [0, 0, 500, 1000, 1500, 2000]);
    assert.deepStrictEqual(results, [0, 1, 2, 3, 4, 5], 'FIFO order, nothing rejected');
  });

  it('never runs more than maxConcurrency at once', async function () {
    const limiter = new RateLimiter({ maxConcurrency: 2, requestsPerSecond: 0 });
    let active = 0;
    let maxActive = 0;
    const releases = [];
    const tasks = [];
    for (let i = 0; i < 5; i++) {
      tasks.push(limiter.schedule(() => new Promise((resolve) => {
        active++;
        maxActive = Math.max(maxActive, active);
        releases.push(() => { active--; resolve(i); });
      })));
    }
    await clock.tickAsync(0);
    assert.strictEqual(limiter.active, 2);
    assert.strictEqual(limiter.pending, 3);
    while (releases.length) {
      releases.shift()();
      await clock.tickAsync(0);
    }
    assert.deepStrictEqual(await Promise.all(tasks), [0, 1, 2, 3, 4]);
    assert.strictEqual(maxActive, 2);
  });

  it('a failing task frees its slot and rejects only its own caller', async function () {
    const limiter = new RateLimiter({ maxConcurrency: 1, requestsPerSecond: 0 });
    const a = limiter.schedule(async () => { throw new Error('boom'); });
    const b = limiter.schedule(async () => 'ok');
    await assert.rejects(a, /boom/);
    assert.strictEqual(await b, 'ok');
  });

  it('an aborted waiter leaves the queue; close() rejects the rest as transient', async function () {
    const limiter = new RateLimiter({ maxConcurrency: 1, requestsPerSecond: 0 });
    let release;
    const first = limiter.schedule(() => new Promise((r) => { release = r; }));
    const ac = new AbortController();
    const aborted = limiter.schedule(async () => 'never', ac.signal);
    const queued = limiter.schedule(async () => 'never');
    ac.abort();
    await assert.rejects(aborted, (e) => e.errorClass === 'transient' && e.code === 'ABORT_ERR');
    assert.strictEqual(limiter.pending, 1);
    limiter.close();
    await assert.rejects(queued, (e) => e.errorClass === 'transient' && e.code === 'ECLOSED');
    release('done');
    assert.strictEqual(await first, 'done', 'calls in flight finish');
    await assert.rejects(limiter.schedule(async () => 1), /closed/);
  });
});
