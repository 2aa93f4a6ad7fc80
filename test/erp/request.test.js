'use strict';
const assert = require('assert');
const { startDemoErp } = require('../../dist/sandbox/erp/index.js');
const {
  createErpClient, classifyErpAnswer, erpOperationOf, erpSettingsFromConfig, checkErpPath, checkIdempotencyKey, ERP_QUEUE_TIMEOUT, ERP_CLIENT_CLOSED, requestFromMessage,
} = require('../../dist/lib/erp/index.js');
const { ValidationError } = require('../../dist/lib/errors.js');
const { order, startScriptedServer, until } = require('./support');

const TOKEN = 'erp-secret-token-4711';

describe('ERP client (lib/erp)', function () {
  describe('classifyErpAnswer (pure)', function () {
    const exchange = (status, extra = {}) => ({ method: 'POST', path: '/orders', operation: 'erp.orders.create', idempotencyKey: 'order_1', answer: { status, headers: {}, body: {} }, ...extra });

    it('maps statuses as the whole pack does: 2xx ok, 408/429/5xx transient, 401/403 auth, 404 not-found, 400/422 validation, other permanent', function () {
      const table = {
        200: 'ok', 201: 'ok', 204: 'ok', 408: 'transient', 429: 'transient', 500: 'transient', 503: 'transient',
        401: 'auth', 403: 'auth', 404: 'not-found', 400: 'validation', 422: 'validation', 409: 'permanent', 302: 'permanent', 410: 'permanent',
      };
      for (const [status, expected] of Object.entries(table)) {
        const v = classifyErpAnswer(exchange(Number(status)));
        assert.strictEqual(v.ok ? 'ok' : v.error.errorClass, expected, `status ${status}`);
      }
    });

    it('passes listed statuses as answers', function () {
      assert.strictEqual(classifyErpAnswer(exchange(409), { passStatuses: [409] }).ok, true);
      assert.strictEqual(classifyErpAnswer(exchange(412), { passStatuses: [409] }).ok, false);
    });

    it('makes no answer transient with the network code, and names method, path and key in a FailureInfo', function () {
      const v = classifyErpAnswer({ method: 'PUT', path: '/orders/5?x=1', operation: 'erp.orders.replace', idempotencyKey: 'k1', error: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' } });
      assert.strictEqual(v.ok, false);
      const f = v.error.toJSON();
      assert.strictEqual(f.errorClass, 'transient');
      assert.strictEqual(f.code, 'ECONNREFUSED');
      assert.strictEqual(f.target, 'erp');
      assert.strictEqual(f.operation, 'erp.orders.replace');
      assert.strictEqual(f.message, 'PUT /orders/5 (k1): no answer from the ERP (connect ECONNREFUSED)');
      assert.ok(!Number.isNaN(Date.parse(f.time)));
    });

    it('takes Retry-After (seconds or a date) and errors[] from the answer', function () {
      const now = Date.parse('2025-01-01T00:00:00Z');
      const a = classifyErpAnswer(exchange(429, { answer: { status: 429, headers: { 'retry-after': '12' }, body: { message: 'slow down' } } })).error.toJSON();
      assert.strictEqual(a.retryAfterMs, 12000);
      assert.strictEqual(a.message, 'POST /orders (order_1): the ERP answered 429 (slow down)');
      const b = classifyErpAnswer(exchange(503, { answer: { status: 503, headers: { 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }, body: '' } }), { now }).error.toJSON();
      assert.strictEqual(b.retryAfterMs, 30000);
      const problems = [{ field: '/items/0/qty', reason: 'must be a number' }];
      const c = classifyErpAnswer(exchange(400, { answer: { status: 400, headers: {}, body: { message: 'bad order', errors: problems } } })).error.toJSON();
      assert.strictEqual(c.errorClass, 'validation');
      assert.deepStrictEqual(c.details, { problems });
    });

    it('names operations after the first path segment and the verb', function () {
      assert.strictEqual(erpOperationOf('POST', '/orders'), 'erp.orders.create');
      assert.strictEqual(erpOperationOf('GET', '/orders/12?x=1'), 'erp.orders.get');
      assert.strictEqual(erpOperationOf('PATCH', '/'), 'erp.root.update');
    });
  });

  describe('erpSettingsFromConfig (the node form)', function () {
    const env = { ERP_URL: 'http://127.0.0.1:9/api/', ERP_TOKEN: 'tok-from-env' };
    const lookup = (n) => env[n];

    it('expands ${ENV} in the URL and token and takes the defaults', function () {
      const s = erpSettingsFromConfig({ url: '${ERP_URL}' }, { token: '${ERP_TOKEN}' }, lookup);
      assert.deepStrictEqual(s, {
        client: { baseUrl: 'http://127.0.0.1:9/api/', token: 'tok-from-env', timeoutMs: 30000, maxSockets: 100, keyHeader: 'Idempotency-Key', passStatuses: [] },
        method: 'POST', path: '/orders', bodyProperty: 'payload', keyHeader: 'Idempotency-Key',
      });
      const t = erpSettingsFromConfig({ url: 'https://erp.example.com', method: 'put', path: '/v2/orders', bodyProperty: 'erpOrder', keyHeader: '', passStatuses: '409, 412', timeout: '2.5', maxConnections: '8' }, {}, lookup);
      assert.deepStrictEqual([t.method, t.path, t.bodyProperty, t.keyHeader, t.client.passStatuses, t.client.timeoutMs, t.client.maxSockets, t.client.token], ['PUT', '/v2/orders', 'erpOrder', '', [409, 412], 2500, 8, undefined]);
    });

    it('a token that only refers to an unset variable means no token; a URL that does is an error', function () {
      assert.strictEqual(erpSettingsFromConfig({ url: 'http://x' }, { token: '${ERP_UNSET}' }, lookup).client.token, undefined);
      assert.throws(() => erpSettingsFromConfig({ url: 'http://x' }, { token: 'pre-${ERP_UNSET}' }, lookup), (e) => e.field === 'credentials.token' && !/pre-/.test(e.message));
    });

    it('names the field of every wrong setting', function () {
      const cases = [
        [{ url: '' }, 'url', /base URL is required/],
        [{ url: '${NOPE}' }, 'url', /environment variable NOPE is not set/],
        [{ url: 'ftp://x' }, 'url', /http:\/\/ or https:\/\//],
        [{ url: 'http://u:p@x' }, 'url', /user or password/],
        [{ url: 'http://x', method: 'HEAD' }, 'method', /not one of POST, PUT, PATCH, GET, DELETE/],
        [{ url: 'http://x', path: 'orders' }, 'path', /single \//],
        [{ url: 'http://x', path: '/a/../b' }, 'path', /\.\./],
        [{ url: 'http://x', bodyProperty: 'a b' }, 'bodyProperty', /not a message property/],
        [{ url: 'http://x', keyHeader: 'Idem Key' }, 'keyHeader', /not an HTTP header name/],
        [{ url: 'http://x', keyHeader: 'Authorization' }, 'keyHeader', /set by the node/],
        [{ url: 'http://x', passStatuses: '409,abc' }, 'passStatuses', /"abc" is not an HTTP status/],
        [{ url: 'http://x', timeout: '0' }, 'timeout', /from 0.001 to 3600/],
        [{ url: 'http://x', maxConnections: '1.5' }, 'maxConnections', /whole number/],
      ];
      for (const [form, field, reason] of cases) {
        assert.throws(() => erpSettingsFromConfig(form, {}, lookup), (err) => err.field === field && reason.test(err.message) && err.message.startsWith(`${field}: `), JSON.stringify(form));
      }
    });

    it('checks a message\'s path and key', function () {
      assert.strictEqual(checkErpPath('/orders/1?x=2', 'msg.erpPath'), '/orders/1?x=2');
      assert.throws(() => checkErpPath('http://evil/x', 'msg.erpPath'), /msg.erpPath: must start with a single \//);
      assert.throws(() => checkErpPath('//evil/x', 'msg.erpPath'), /single \//);
      assert.throws(() => checkErpPath('/a b', 'msg.erpPath'), /spaces or control/);
      assert.strictEqual(checkIdempotencyKey(12), '12');
      assert.throws(() => checkIdempotencyKey(undefined), (e) => e.field === 'msg.idempotencyKey' && e.errorClass === 'validation' && /is missing/.test(e.message));
      assert.throws(() => checkIdempotencyKey('a\r\nX: y'), /printable ASCII/);
      assert.throws(() => checkIdempotencyKey({}), /text or a number/);
    });
  });

  describe('requestFromMessage (what the node reads of a message)', function () {
    const post = erpSettingsFromConfig({ url: 'http://x' }, {});
    /** The ValidationError thrown for `msg`, checked to be one; its field and message. */
    const refusal = (settings, msg) => {
      try {
        requestFromMessage(settings, msg);
      } catch (err) {
        assert.ok(err instanceof ValidationError, `a ValidationError, got ${err && err.stack}`);
        assert.strictEqual(err.errorClass, 'validation');
        assert.ok(err.message.startsWith(`${err.field}: `), err.message);
        return [err.field, err.message];
      }
      assert.fail(`no error for ${JSON.stringify(msg)}`);
    };

    it('takes the configured method and path, the key and the body (the same object, not a copy)', function () {
      const payload = order('100000001');
      const r = requestFromMessage(post, { payload, idempotencyKey: 'order_100000001', topic: 'x' });
      assert.deepStrictEqual(Object.keys(r).sort(), ['body', 'idempotencyKey', 'method', 'path']);
      assert.deepStrictEqual([r.method, r.path, r.idempotencyKey], ['POST', '/orders', 'order_100000001']);
      assert.ok(r.body === payload);
      assert.strictEqual(requestFromMessage(post, { payload: 'text', idempotencyKey: 42 }).idempotencyKey, '42');
      assert.strictEqual(requestFromMessage(post, { payload: null, idempotencyKey: 'k' }).body, null, 'null is a body (JSON null)');
    });

    it('msg.erpPath replaces the path when set; an empty one keeps the configured path', function () {
      assert.strictEqual(requestFromMessage(post, { payload: {}, idempotencyKey: 'k', erpPath: '/orders/SO-1?x=1' }).path, '/orders/SO-1?x=1');
      for (const erpPath of ['', null, undefined]) {
        assert.strictEqual(requestFromMessage(post, { payload: {}, idempotencyKey: 'k', erpPath }).path, '/orders');
      }
    });

    it('reads the body from a nested property, own properties only', function () {
      const s = erpSettingsFromConfig({ url: 'http://x', bodyProperty: 'erp.orders[1]' }, {});
      assert.deepStrictEqual(requestFromMessage(s, { erp: { orders: ['a', { n: 2 }] }, idempotencyKey: 'k' }).body, { n: 2 });
      assert.deepStrictEqual(refusal(s, { erp: 'not an object', idempotencyKey: 'k' }), ['msg.erp.orders[1]', "msg.erp.orders[1]: is missing: a POST needs a body (set the node's Body property or put the data there)"]);
      assert.strictEqual(refusal(s, { idempotencyKey: 'k' })[0], 'msg.erp.orders[1]');
      const prefixed = erpSettingsFromConfig({ url: 'http://x', bodyProperty: 'msg.erpOrder' }, {});
      assert.strictEqual(prefixed.bodyProperty, 'erpOrder', 'a msg. prefix means the message, as in Node-RED');
      assert.deepStrictEqual(requestFromMessage(prefixed, { erpOrder: { n: 1 }, idempotencyKey: 'k' }).body, { n: 1 });
      const inherited = Object.create({ payload: { from: 'prototype' } });
      inherited.idempotencyKey = 'k';
      assert.strictEqual(refusal(post, inherited)[0], 'msg.payload');
    });

    it('GET and DELETE need no body and no key when the key header is cleared', function () {
      const get = erpSettingsFromConfig({ url: 'http://x', method: 'GET', keyHeader: '' }, {});
      assert.deepStrictEqual(requestFromMessage(get, { erpPath: '/orders/7', idempotencyKey: { ignored: true } }), { method: 'GET', path: '/orders/7' });
      const del = erpSettingsFromConfig({ url: 'http://x', method: 'DELETE', path: '/orders/7' }, {});
      assert.deepStrictEqual(requestFromMessage(del, { idempotencyKey: 'k' }), { method: 'DELETE', path: '/orders/7', idempotencyKey: 'k' });
      // A GET never carries msg.payload (an inject's timestamp); a DELETE sends one when there is one.
      assert.deepStrictEqual(requestFromMessage(get, { erpPath: '/orders/7', payload: 1765100000000 }), { method: 'GET', path: '/orders/7' });
      assert.deepStrictEqual(requestFromMessage(del, { idempotencyKey: 'k', payload: { reason: 'cancelled' } }).body, { reason: 'cancelled' });
    });

    it('names the field and the reason of each refused message, path first, then key, then body', function () {
      const put = erpSettingsFromConfig({ url: 'http://x', method: 'PUT', bodyProperty: 'erpOrder' }, {});
      const cases = [
        [post, { payload: {} }, 'msg.idempotencyKey', /^msg\.idempotencyKey: is missing: the ERP needs it/],
        [post, { payload: {}, idempotencyKey: ['a'] }, 'msg.idempotencyKey', /must be text or a number, not an array/],
        [post, { payload: {}, idempotencyKey: 'a\r\nX-Evil: 1' }, 'msg.idempotencyKey', /printable ASCII/],
        [post, { payload: {}, idempotencyKey: 'k'.repeat(256) }, 'msg.idempotencyKey', /longer than 255/],
        [post, { idempotencyKey: 'k' }, 'msg.payload', /^msg\.payload: is missing: a POST needs a body/],
        [put, { payload: {}, idempotencyKey: 'k' }, 'msg.erpOrder', /^msg\.erpOrder: is missing: a PUT needs a body/],
        [post, { payload: {}, idempotencyKey: 'k', erpPath: 'http://elsewhere/x' }, 'msg.erpPath', /must start with a single \//],
        [post, { payload: {}, idempotencyKey: 'k', erpPath: '/a/../admin' }, 'msg.erpPath', /"\.\." segment/],
        [post, { payload: {}, idempotencyKey: 'k', erpPath: 7 }, 'msg.erpPath', /must be a path starting with \//],
        [post, { erpPath: '//evil' }, 'msg.erpPath', /single \//],
        [post, {}, 'msg.idempotencyKey', /is missing/],
      ];
      for (const [settings, msg, field, reason] of cases) {
        const [f, message] = refusal(settings, msg);
        assert.strictEqual(f, field, JSON.stringify(msg));
        assert.match(message, reason, JSON.stringify(msg));
      }
    });
  });

  describe('against the demo ERP', function () {
    let erp;
    let client;
    const records = [];
    before(async function () {
      erp = await startDemoErp({ port: 0, host: '127.0.0.1', token: TOKEN });
    });
    after(async function () { if (erp) await erp.close(); });
    beforeEach(function () {
      erp.reset();
      records.length = 0;
      client = createErpClient({ baseUrl: erp.url, token: TOKEN, passStatuses: [] });
      client.onCall((r) => records.push(r));
    });
    afterEach(async function () { await client.close(); });

    it('creates an order once: bearer token and Idempotency-Key sent, the repeat answered from the first, audited without secrets', async function () {
      const first = await client.send({ path: '/orders', body: order('100000001'), idempotencyKey: 'order_100000001' });
      assert.strictEqual(first.ok, true, first.error && first.error.message);
      assert.ok(first.answer.status >= 200 && first.answer.status < 300);
      assert.match(first.answer.body.erp_order_id, /\S/);
      const again = await client.send({ path: '/orders', body: order('100000001'), idempotencyKey: 'order_100000001' });
      assert.strictEqual(again.ok, true);
      assert.strictEqual(again.answer.headers['idempotent-replayed'], 'true');
      assert.deepStrictEqual(again.answer.body, first.answer.body);
      assert.strictEqual(erp.state.orders.size, 1);
      const posted = erp.requests.filter((r) => r.path === '/orders');
      assert.deepStrictEqual(posted.map((r) => r.idempotencyKey), ['order_100000001', 'order_100000001']);

      assert.strictEqual(records.length, 2);
      assert.deepStrictEqual(Object.keys(records[0]).sort(), ['durationMs', 'idempotencyKey', 'method', 'operation', 'route', 'status', 'store', 'time']);
      assert.strictEqual(records[0].operation, 'erp.orders.create');
      assert.strictEqual(records[0].store, 'erp');
      assert.strictEqual(records[0].route, '/orders');
      assert.ok(!JSON.stringify(records).includes(TOKEN));
    });

    it('an order already there under another key (409) fails as permanent unless 409 is passed as an answer', async function () {
      await client.send({ path: '/orders', body: order('100000002'), idempotencyKey: 'a' });
      const refused = await client.send({ path: '/orders', body: order('100000002'), idempotencyKey: 'b' });
      assert.strictEqual(refused.ok, false);
      assert.strictEqual(refused.error.errorClass, 'permanent');
      assert.strictEqual(refused.error.status, 409);
      assert.match(refused.error.message, /^POST \/orders \(b\): the ERP answered 409 \(Order 100000002 already exists/);
      const passing = createErpClient({ baseUrl: erp.url, token: TOKEN, passStatuses: [409] });
      try {
        const answer = await passing.send({ path: '/orders', body: order('100000002'), idempotencyKey: 'c' });
        assert.strictEqual(answer.ok, true);
        assert.strictEqual(answer.answer.status, 409);
        assert.strictEqual(typeof answer.answer.body.erp_order_id, 'string');
      } finally {
        await passing.close();
      }
    });

    it('a wrong token is an auth failure that does not show the token; no key is a validation failure; errors[] become details.problems', async function () {
      const wrong = createErpClient({ baseUrl: erp.url, token: 'not-the-token-1234' });
      try {
        const r = await wrong.send({ path: '/orders', body: order('100000003'), idempotencyKey: 'k' });
        assert.strictEqual(r.error.errorClass, 'auth');
        assert.strictEqual(r.error.status, 401);
        assert.ok(!JSON.stringify(r.error.toJSON()).includes('not-the-token-1234'));
      } finally {
        await wrong.close();
      }
      const noKey = await client.send({ path: '/orders', body: order('100000003') });
      assert.strictEqual(noKey.error.errorClass, 'validation');
      assert.match(noKey.error.message, /Idempotency-Key header is required/);
      const bad = order('100000004');
      bad.items[0].qty = 'two';
      const invalid = await client.send({ path: '/orders', body: bad, idempotencyKey: 'order_100000004' });
      assert.strictEqual(invalid.error.errorClass, 'validation');
      assert.strictEqual(invalid.error.status, 400);
      assert.ok(Array.isArray(invalid.error.details.problems) && invalid.error.details.problems.length > 0);
      assert.ok(invalid.error.details.problems.some((p) => /items\/0\/qty/.test(JSON.stringify(p))), JSON.stringify(invalid.error.details));
    });

    it('the demo ERP\'s 503 fault with Retry-After is transient with retryAfterMs', async function () {
      erp.setFaults({ failNextOrders: 1, status: 503, retryAfterSeconds: 3 });
      const r = await client.send({ path: '/orders', body: order('100000005'), idempotencyKey: 'order_100000005' });
      assert.strictEqual(r.error.errorClass, 'transient');
      assert.strictEqual(r.error.retryAfterMs, 3000);
      assert.strictEqual(records[0].errorClass, 'transient');
      assert.strictEqual(records[0].status, 503);
    });

    it('GET by id: the answer parsed; an unknown id is not-found', async function () {
      await client.send({ path: '/orders', body: order('100000006'), idempotencyKey: 'order_100000006' });
      const r = await client.send({ method: 'GET', path: '/orders/100000006' });
      assert.strictEqual(r.ok, true, r.error && r.error.message);
      assert.strictEqual(r.answer.body.order.order_number, '100000006');
      const missing = await client.send({ method: 'GET', path: '/orders/nope' });
      assert.strictEqual(missing.error.errorClass, 'not-found');
    });
  });

  describe('against a scripted server', function () {
    let server;
    let client;
    beforeEach(async function () { server = await startScriptedServer(); });
    afterEach(async function () {
      if (client) await client.close();
      client = undefined;
      await server.close();
    });

    it('keeps sockets alive: 50 calls one after another use one connection; the body is JSON with its length', async function () {
      client = createErpClient({ baseUrl: `${server.url}/api/`, maxSockets: 4 });
      server.set({ status: 201, body: { id: 1 } });
      for (let i = 0; i < 50; i++) {
        const r = await client.send({ path: '/orders', body: { n: i, text: 'é' }, idempotencyKey: `k${i}` });
        assert.strictEqual(r.ok, true);
      }
      assert.strictEqual(server.requests.length, 50);
      assert.strictEqual(server.connections, 1, 'one connection for 50 calls');
      const last = server.requests[49];
      assert.strictEqual(last.url, '/api/orders');
      assert.deepStrictEqual(JSON.parse(last.body), { n: 49, text: 'é' });
      assert.strictEqual(Number(last.headers['content-length']), Buffer.byteLength(last.body));
      assert.strictEqual(last.headers['content-type'], 'application/json');
      assert.strictEqual(last.headers['idempotency-key'], 'k49');
      assert.strictEqual(last.headers.authorization, undefined, 'no token configured, no Authorization header');
      assert.strictEqual(last.headers.connection, 'keep-alive');
    });

    it('a body with no JSON form is refused as validation before anything is sent', async function () {
      client = createErpClient({ baseUrl: server.url });
      server.set({ status: 201, body: {} });
      const cyclic = {};
      cyclic.self = cyclic;
      for (const body of [cyclic, { n: 10n }, () => 1]) {
        const r = await client.send({ path: '/orders', body, idempotencyKey: 'k' });
        assert.strictEqual(r.ok, false);
        assert.strictEqual(r.error.errorClass, 'validation');
        assert.strictEqual(r.error.field, 'body');
      }
      assert.strictEqual(server.requests.length, 0);
    });

    it('at most maxSockets calls at once', async function () {
      client = createErpClient({ baseUrl: server.url, maxSockets: 3 });
      const held = [];
      server.set((req) => { held.push(req); return { hang: true }; });
      const calls = Array.from({ length: 8 }, (_, i) => client.send({ path: '/x', body: {}, idempotencyKey: `k${i}` }));
      const deadline = Date.now() + 2000;
      while (held.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50));
      assert.strictEqual(held.length, 3);
      assert.strictEqual(client.inFlight, 8);
      await server.close();
      const results = await Promise.all(calls);
      assert.ok(results.every((r) => !r.ok && r.error.errorClass === 'transient'));
      server = await startScriptedServer();
    });

    it('a 503 with Retry-After and a text body: transient, retryAfterMs, the text in the message', async function () {
      client = createErpClient({ baseUrl: server.url });
      server.set({ status: 503, headers: { 'retry-after': '7' }, body: 'Service Unavailable: maintenance' });
      const r = await client.send({ path: '/orders', body: { a: 1 }, idempotencyKey: 'order_9' });
      assert.strictEqual(r.ok, false);
      assert.strictEqual(r.answer.body, 'Service Unavailable: maintenance');
      assert.deepStrictEqual(
        { errorClass: r.error.errorClass, status: r.error.status, retryAfterMs: r.error.retryAfterMs, message: r.error.message },
        { errorClass: 'transient', status: 503, retryAfterMs: 7000, message: 'POST /orders (order_9): the ERP answered 503 (Service Unavailable: maintenance)' },
      );
    });

    it('keeps a non-JSON 200 answer as text, an empty one as an empty string, and broken JSON as text', async function () {
      client = createErpClient({ baseUrl: server.url });
      server.set({ status: 200, body: 'OK' });
      assert.strictEqual((await client.send({ path: '/a', body: {}, idempotencyKey: 'k' })).answer.body, 'OK');
      server.set({ status: 204, body: '' });
      const empty = await client.send({ method: 'DELETE', path: '/a/1' });
      assert.strictEqual(empty.ok, true);
      assert.strictEqual(empty.answer.body, '');
      assert.strictEqual(server.requests[1].headers['content-length'], undefined, 'no body sent for DELETE without one');
      server.set({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"broken":' });
      assert.strictEqual((await client.send({ path: '/a', body: {}, idempotencyKey: 'k' })).answer.body, '{"broken":');
    });

    it('a call without a complete answer in time is transient (ETIMEDOUT)', async function () {
      client = createErpClient({ baseUrl: server.url, timeoutMs: 150 });
      server.set({ hang: true });
      const started = Date.now();
      const r = await client.send({ path: '/orders', body: {}, idempotencyKey: 'order_1' });
      assert.ok(Date.now() - started < 5000);
      assert.strictEqual(r.error.errorClass, 'transient');
      assert.strictEqual(r.error.code, 'ETIMEDOUT');
      assert.match(r.error.message, /^POST \/orders \(order_1\): no answer from the ERP \(no complete answer within 150 ms\)$/);
    });

    describe('the timeout counts from the connection, not from the wait for one', function () {
      const keys = () => server.requests.map((r) => r.headers['idempotency-key']);

      it('a call queued behind a held one is not timed out: it gets its own timeout once it has the connection', async function () {
        const T = 800;
        client = createErpClient({ baseUrl: server.url, maxSockets: 1, timeoutMs: T });
        let n = 0;
        server.set(() => (++n === 1 ? { hang: true } : { status: 201, body: { n } }));
        const held = client.send({ path: '/orders', body: {}, idempotencyKey: 'held' });
        const queued = client.send({ path: '/orders', body: {}, idempotencyKey: 'queued' });
        const [h, q] = await Promise.all([held, queued]);
        // The held call still times out, on its own clock.
        assert.strictEqual(h.error.code, 'ETIMEDOUT');
        assert.strictEqual(h.error.message, `POST /orders (held): no answer from the ERP (no complete answer within ${T} ms)`);
        // The queued call waited the whole of the held call's timeout for the one connection, yet is answered.
        assert.strictEqual(q.ok, true, q.error && q.error.message);
        assert.deepStrictEqual(q.answer.body, { n: 2 });
        assert.ok(q.durationMs >= T * 0.9, `queued call took ${q.durationMs} ms in all, the held call's timeout included`);
        assert.deepStrictEqual(keys(), ['held', 'queued']);
        assert.strictEqual(server.connections, 2, 'the timed-out call\'s connection is closed, the queued call gets a new one');
      });

      it('a queued call that is then held times out on its own clock, not the one of the call before it', async function () {
        const T = 500;
        client = createErpClient({ baseUrl: server.url, maxSockets: 1, timeoutMs: T });
        server.set({ hang: true });
        const [h, q] = await Promise.all([
          client.send({ path: '/orders', body: {}, idempotencyKey: 'first' }),
          client.send({ path: '/orders', body: {}, idempotencyKey: 'second' }),
        ]);
        assert.deepStrictEqual([h.error.code, q.error.code], ['ETIMEDOUT', 'ETIMEDOUT']);
        assert.deepStrictEqual([h.error.errorClass, q.error.errorClass], ['transient', 'transient']);
        assert.ok(q.durationMs >= 2 * T * 0.9, `the second call took ${q.durationMs} ms: its wait for the connection and then its own ${T} ms`);
        assert.deepStrictEqual(keys(), ['first', 'second'], 'the second call was sent, after the first timed out');
      });

      it('a call on a reused kept-alive connection still times out', async function () {
        client = createErpClient({ baseUrl: server.url, maxSockets: 1, timeoutMs: 300 });
        server.set({ status: 201, body: {} });
        assert.strictEqual((await client.send({ path: '/orders', body: {}, idempotencyKey: 'a' })).ok, true);
        server.set({ hang: true });
        const r = await client.send({ path: '/orders', body: {}, idempotencyKey: 'b' });
        assert.strictEqual(r.error.code, 'ETIMEDOUT');
        assert.match(r.error.message, /no complete answer within 300 ms/);
        assert.strictEqual(server.connections, 1, 'the second call went over the first call\'s connection');
      });

      it('closing the client fails calls still waiting for a connection as not sent; none goes out afterwards', async function () {
        client = createErpClient({ baseUrl: server.url, maxSockets: 1, timeoutMs: 20000 });
        let heldRes;
        server.set((req, res) => {
          if (!heldRes) {
            heldRes = res;
            return { hang: true };
          }
          return { status: 201, body: {} };
        });
        const held = client.send({ path: '/orders', body: {}, idempotencyKey: 'held' });
        await new Promise((resolve) => { const t = setInterval(() => { if (heldRes) { clearInterval(t); resolve(); } }, 5); });
        const queued = client.send({ path: '/orders', body: {}, idempotencyKey: 'queued' });
        const closing = client.close(0);
        const q = await queued;
        assert.deepStrictEqual({ ok: q.ok, errorClass: q.error.errorClass, code: q.error.code }, { ok: false, errorClass: 'transient', code: ERP_CLIENT_CLOSED });
        assert.match(q.error.message, /not sent to the ERP \(the ERP client closed before a connection was free/);
        await closing;
        const h = await held;
        assert.strictEqual(h.ok, false, 'the held call lost its connection with the client');
        const after = await client.send({ path: '/orders', body: {}, idempotencyKey: 'after' });
        assert.strictEqual(after.error.code, ERP_CLIENT_CLOSED);
        assert.deepStrictEqual(keys(), ['held'], 'only the call that had a connection reached the ERP');
        client = undefined;
      });

      it('a call that waits longer than queueTimeoutMs for a connection fails as transient, never sent, and the connection serves the next call', async function () {
        client = createErpClient({ baseUrl: server.url, maxSockets: 1, timeoutMs: 20000, queueTimeoutMs: 200 });
        const records = [];
        client.onCall((r) => records.push(r));
        let heldRes;
        server.set((req, res) => {
          if (!heldRes) {
            heldRes = res;
            return { hang: true };
          }
          return { status: 201, body: { key: req.headers['idempotency-key'] } };
        });
        const held = client.send({ path: '/orders', body: {}, idempotencyKey: 'held' });
        const q = await client.send({ path: '/orders', body: {}, idempotencyKey: 'queued' });
        assert.strictEqual(q.ok, false);
        assert.deepStrictEqual(
          { errorClass: q.error.errorClass, code: q.error.code, message: q.error.message, answer: q.answer },
          {
            errorClass: 'transient', code: ERP_QUEUE_TIMEOUT, answer: undefined,
            message: 'POST /orders (queued): not sent to the ERP (the one connection to the ERP stayed busy for 200 ms, the longest a call waits for one)',
          },
        );
        assert.deepStrictEqual(keys(), ['held'], 'the ERP never saw the queued call');
        assert.deepStrictEqual(records.map((r) => [r.idempotencyKey, r.errorClass, r.status]), [['queued', 'transient', undefined]]);

        // The held call is answered within its own timeout; the given-up call does not take the connection.
        heldRes.writeHead(201, { 'content-type': 'application/json' });
        heldRes.end('{"key":"held"}');
        const h = await held;
        assert.strictEqual(h.ok, true, h.error && h.error.message);
        const next = await client.send({ path: '/orders', body: {}, idempotencyKey: 'next' });
        assert.strictEqual(next.ok, true, next.error && next.error.message);
        assert.deepStrictEqual(next.answer.body, { key: 'next' });
        assert.deepStrictEqual(keys(), ['held', 'next']);
        assert.strictEqual(server.connections, 1, 'one connection throughout');
      });

      it('says "all N connections" when there are several', async function () {
        client = createErpClient({ baseUrl: server.url, maxSockets: 2, timeoutMs: 20000, queueTimeoutMs: 100 });
        const held = [];
        server.set((req, res) => { held.push(res); return { hang: true }; });
        const first = [client.send({ path: '/a', body: {}, idempotencyKey: 'k1' }), client.send({ path: '/a', body: {}, idempotencyKey: 'k2' })];
        const q = await client.send({ path: '/a', body: {}, idempotencyKey: 'k3' });
        assert.strictEqual(q.error.message, 'POST /a (k3): not sent to the ERP (all 2 connections to the ERP stayed busy for 100 ms, the longest a call waits for one)');
        await until(() => held.length === 2, 'both held calls at the server');
        for (const res of held) res.end();
        const answers = await Promise.all(first);
        assert.ok(answers.every((a) => a.ok), JSON.stringify(answers.map((a) => a.error && a.error.message)));
      });
    });

    it('a refused connection is transient (ECONNREFUSED)', async function () {
      const url = server.url;
      await server.close();
      client = createErpClient({ baseUrl: url });
      const r = await client.send({ path: '/orders', body: {}, idempotencyKey: 'k' });
      assert.strictEqual(r.error.errorClass, 'transient');
      assert.strictEqual(r.error.code, 'ECONNREFUSED');
      server = await startScriptedServer();
    });

    it('never shows the token, even when the ERP echoes it', async function () {
      client = createErpClient({ baseUrl: server.url, token: TOKEN });
      const records = [];
      client.onCall((r) => records.push(r));
      server.set({ status: 500, body: { message: `token ${TOKEN} rejected`, errors: [{ token: TOKEN, reason: `bad ${TOKEN}` }] } });
      const r = await client.send({ path: '/orders', body: {}, idempotencyKey: 'k' });
      assert.strictEqual(server.requests[0].headers.authorization, `Bearer ${TOKEN}`);
      assert.ok(!JSON.stringify(r.error.toJSON()).includes(TOKEN), JSON.stringify(r.error.toJSON()));
      assert.ok(!r.error.message.includes(TOKEN));
      assert.ok(!JSON.stringify(records).includes(TOKEN));
      assert.match(r.error.message, /the ERP answered 500 \(token \[redacted\] rejected\)/);
    });
  });
});
