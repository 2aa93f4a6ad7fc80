'use strict';
const assert = require('assert');
const sinon = require('sinon');
const { failureOfMessage } = require('../../dist/lib/retry/classify');
const { backoffDelay, backoffWindow } = require('../../dist/lib/retry/backoff');
const { decide, DEFAULT_POLICY, checkPolicy } = require('../../dist/lib/retry/policy');
const { CircuitBreaker } = require('../../dist/lib/retry/breaker');
const { persistableMessage, revivedMessage } = require('../../dist/lib/retry/persist');
const { IntegrationError } = require('../../dist/lib/errors');

describe('retry policy: classification table', function () {
  const table = [
    // [what the message carries, expected class]
    [{ failure: new IntegrationError('auth', 'token expired', { status: 401 }).toJSON() }, 'auth'],
    [{ failure: { errorClass: 'validation', message: 'qty: must be a number', name: 'ValidationError' } }, 'validation'],
    [{ error: { message: 'Request failed with status code 503' } }, 'transient'],
    [{ error: { message: 'boom' }, statusCode: 429 }, 'transient'],
    [{ error: { message: 'boom' }, statusCode: 500 }, 'transient'],
    [{ error: { message: 'boom' }, statusCode: 408 }, 'transient'],
    [{ error: { message: 'HTTP 401 Unauthorized' } }, 'auth'],
    [{ error: { message: 'x', status: 403 } }, 'auth'],
    [{ error: { message: 'x', statusCode: 404 } }, 'not-found'],
    [{ error: { message: 'x', statusCode: 400 } }, 'validation'],
    [{ error: { message: 'x', statusCode: 422 } }, 'validation'],
    [{ error: { message: 'x', statusCode: 409 } }, 'permanent'],
    [{ error: { message: 'connect ECONNREFUSED 127.0.0.1:1' } }, 'transient'],
    [{ error: { message: 'socket hang up', code: 'ECONNRESET' } }, 'transient'],
    [{ error: 'plain text error' }, 'transient'],
  ];
  for (const [msg, expected] of table) {
    it(`${JSON.stringify(msg).slice(0, 90)} → ${expected}`, function () {
      assert.strictEqual(failureOfMessage(msg).errorClass, expected);
    });
  }

  it('unknown errors take the configured class', function () {
    assert.strictEqual(failureOfMessage({ error: { message: 'weird' } }, { unknownAs: 'permanent' }).errorClass, 'permanent');
  });

  it('reads Retry-After (seconds and HTTP date) from the http request node answer', function () {
    const now = new Date('2024-05-01T10:00:00Z');
    assert.strictEqual(failureOfMessage({ error: { message: 'x' }, statusCode: 429, headers: { 'retry-after': '7' } }, {}, now).retryAfterMs, 7000);
    assert.strictEqual(failureOfMessage({ error: { message: 'x' }, statusCode: 503, headers: { 'retry-after': 'Wed, 01 May 2024 10:00:30 GMT' } }, {}, now).retryAfterMs, 30000);
  });

  it('a message without failure or error has no failure', function () {
    assert.strictEqual(failureOfMessage({ payload: 1 }), undefined);
  });
});

describe('retry policy: backoff with full jitter', function () {
  const opts = { baseMs: 1000, maxMs: 60000, factor: 2 };

  it('doubles the window per attempt up to the cap', function () {
    assert.deepStrictEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffWindow(n, opts)), [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
  });

  it('draws uniformly inside the window (full jitter)', function () {
    assert.strictEqual(backoffDelay(3, opts, undefined, () => 0), 0);
    assert.strictEqual(backoffDelay(3, opts, undefined, () => 0.5), 2000);
    assert.strictEqual(backoffDelay(3, opts, undefined, () => 0.999), 3996);
  });

  it('never retries before Retry-After', function () {
    assert.strictEqual(backoffDelay(1, opts, 30000, () => 0.5), 30000);
    assert.strictEqual(backoffDelay(7, opts, 100, () => 0.5), 30000);
  });
});

describe('retry policy: decide', function () {
  const policy = checkPolicy({ ...structuredClone(DEFAULT_POLICY), maxAttempts: 3, maxAgeMs: 60000 });
  const f = (errorClass, extra = {}) => ({ name: 'E', errorClass, message: 'x', time: '', ...extra });

  it('retries transient failures until max attempts, then dead letter', function () {
    assert.deepStrictEqual(decide(f('transient'), 1, 0, 0, policy, () => 0.5), { action: 'retry', delayMs: 500 });
    assert.deepStrictEqual(decide(f('transient'), 2, 0, 0, policy, () => 0.5), { action: 'retry', delayMs: 1000 });
    assert.deepStrictEqual(decide(f('transient'), 3, 0, 0, policy, () => 0.5), { action: 'dead', reason: 'max attempts' });
  });

  it('dead letters when the next try would pass the max age', function () {
    assert.deepStrictEqual(decide(f('transient', { retryAfterMs: 50000 }), 1, 0, 20000, policy), { action: 'dead', reason: 'max age' });
  });

  it('pauses on auth, dead letters validation / not-found / permanent at once', function () {
    assert.deepStrictEqual(decide(f('auth'), 1, 0, 0, policy), { action: 'pause' });
    for (const c of ['validation', 'not-found', 'permanent']) assert.deepStrictEqual(decide(f(c), 1, 0, 0, policy), { action: 'dead', reason: c });
  });

  it('refuses a bad policy with the field named', function () {
    assert.throws(() => checkPolicy({ ...structuredClone(DEFAULT_POLICY), maxAttempts: 0 }), /maxAttempts: must be an integer/);
    assert.throws(() => checkPolicy({ ...structuredClone(DEFAULT_POLICY), actions: { ...DEFAULT_POLICY.actions, auth: 'ignore' } }), /actions.auth: must be retry, pause or dead/);
  });
});

describe('retry policy: circuit breaker', function () {
  let clock;
  beforeEach(() => { clock = sinon.useFakeTimers({ now: 1_000_000 }); });
  afterEach(() => clock.restore());

  it('opens after the threshold, lets one probe through after the wait, reopens longer on failure, closes on success', function () {
    const b = new CircuitBreaker({ failureThreshold: 3, openMs: 1000, maxOpenMs: 3000, probeTimeoutMs: 500 });
    const t = () => Date.now();
    b.failure('shop', t()); b.failure('shop', t());
    assert.deepStrictEqual(b.allow('shop', t()), { allowed: true });
    b.failure('shop', t());
    assert.strictEqual(b.state('shop', t()), 'open');
    assert.deepStrictEqual(b.allow('shop', t()), { allowed: false, retryAt: t() + 1000 });
    assert.deepStrictEqual(b.allow('erp', t()), { allowed: true }, 'other targets are not held');
    clock.tick(1000);
    assert.strictEqual(b.state('shop', t()), 'half-open');
    assert.deepStrictEqual(b.allow('shop', t()), { allowed: true }, 'one probe');
    assert.deepStrictEqual(b.allow('shop', t()), { allowed: false, retryAt: t() + 500 }, 'only one probe at a time');
    b.failure('shop', t());
    assert.deepStrictEqual(b.allow('shop', t()), { allowed: false, retryAt: t() + 2000 }, 'reopened for twice as long');
    clock.tick(2000);
    assert.deepStrictEqual(b.allow('shop', t()), { allowed: true });
    b.failure('shop', t());
    assert.deepStrictEqual(b.allow('shop', t()), { allowed: false, retryAt: t() + 3000 }, 'capped');
    clock.tick(3000);
    b.allow('shop', t());
    b.success('shop');
    assert.strictEqual(b.state('shop', t()), 'closed');
  });
});

describe('retry policy: what is persisted', function () {
  it('drops req, res, functions, sockets and secrets; keeps data and Buffers', function () {
    class Socket { constructor() { this.fd = 3; } }
    const msg = {
      _msgid: 'm1', payload: { sku: 'A', qty: 0, list: [], bin: Buffer.from('hi') }, topic: 't',
      req: { headers: {} }, res: { _res: {} }, fn: () => 1, sock: new Socket(),
      headers: { authorization: 'Bearer abc', 'x-trace': '1' }, password: 'pw', failure: { errorClass: 'transient' },
      retry: { id: 'x' }, error: { message: 'e' },
    };
    const { message, dropped } = persistableMessage(msg);
    assert.deepStrictEqual(Object.keys(message).sort(), ['_msgid', 'headers', 'payload', 'topic']);
    assert.deepStrictEqual(message.headers, { 'x-trace': '1' });
    assert.ok(dropped.includes('req') && dropped.includes('res') && dropped.includes('fn') && dropped.includes('sock') && dropped.includes('password') && dropped.includes('headers.authorization'));
    const back = revivedMessage(JSON.parse(JSON.stringify(message)));
    assert.ok(Buffer.isBuffer(back.payload.bin));
    assert.strictEqual(back.payload.bin.toString(), 'hi');
    assert.deepStrictEqual(back.payload.list, []);
  });

  it('keeps objects, arrays and dates made in another JavaScript context (a function node\'s)', function () {
    const vm = require('vm');
    const made = vm.runInNewContext('({ payload: { items: [{ sku: "A", qty: 2 }], at: new Date(0) }, meta: Object.create(null) })');
    const { message, dropped } = persistableMessage({ _msgid: 'm2', ...made });
    assert.deepStrictEqual(dropped, []);
    assert.deepStrictEqual(message.payload, { items: [{ sku: 'A', qty: 2 }], at: '1970-01-01T00:00:00.000Z' });
    assert.deepStrictEqual(message.meta, {});
  });

  it('keeps the idempotency gate\'s holder token (not a secret) but still drops a token elsewhere', function () {
    const { message, dropped } = persistableMessage({ _gate: { id: 'g', key: 'order_1', token: 'holder-1' }, payload: { token: 'secret-1' } });
    assert.deepStrictEqual(message._gate, { id: 'g', key: 'order_1', token: 'holder-1' });
    assert.deepStrictEqual(message.payload, {});
    assert.deepStrictEqual(dropped, ['payload.token']);
  });
});
