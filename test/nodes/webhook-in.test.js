'use strict';
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const https = require('https');
const { execFileSync } = require('child_process');
const net = require('net');
// The e2e helpers' free loopback port.
const { freePort } = require('../e2e/examples-support');
const os = require('os');
const path = require('path');
const sinon = require('sinon');
const helper = require('node-red-node-test-helper');
const express = require('express');
const webhookIn = require('../../dist/nodes/webhook-in/webhook-in.js');
// Node-RED's own TLS configuration node (core), for webhook-in's HTTPS on its own port.
const tlsModule = require('@node-red/nodes/core/network/05-tls.js');
const { computeSignature } = require('../../dist/lib/orders');
const { SqliteRetryQueueStore } = require('../../dist/lib/stores/sqlite-queue');
const { SqliteClaimedQueue } = require('../../dist/lib/stores/sqlite-claimed-queue');
const realHooks = require('@node-red/util').hooks;

helper.init(require.resolve('node-red'));

const SECRET = 'whsec-test-Zq9!long-enough';

describe('magento-webhook-in node', function () {
  let userDir;
  let server;
  let port;
  let app;
  const reported = [];
  const throughExpress = [];

  // The test helper's runtime gives nodes neither hooks nor a listening httpNode: give the node the
  // runtime's real hooks, and serve its httpNode app on 127.0.0.1:0.
  function webhookModule(RED) {
    RED.hooks = realHooks;
    // The helper's RED._ returns the bare key: keep what the node reported, to read the reasons.
    if (!RED._.reported) {
      const translate = RED._;
      RED._ = Object.assign((key, subs) => { reported.push({ key, subs }); return translate(key, subs); }, { reported: true });
    }
    // As in Node-RED with httpAdminRoot = httpNodeRoot = '/': the admin app's global JSON parser runs
    // before httpNode's routes.
    app = express();
    app.use(express.json());
    // Counts the requests that went on through Express (past webhook-in's middleware at the top of the app).
    app.use((req, _res, next) => { throughExpress.push(req.url); next(); });
    app.use(RED.httpNode);
    return webhookIn(RED);
  }
  // A downstream node that takes an event over (completes it), like idempotency-gate does; one that is
  // still working on it (declares done() but has not called it: the state at a crash); one that has no
  // done() at all (like core switch), for which receipt is the take-over.
  function takerModule(RED) {
    RED.nodes.registerType('taker', function (n) {
      RED.nodes.createNode(this, n);
      this.on('input', (msg, send, done) => { send(msg); done(); });
    });
    RED.nodes.registerType('holder', function (n) {
      RED.nodes.createNode(this, n);
      this.on('input', (msg, send, _done) => { send(msg); });
    });
    RED.nodes.registerType('router', function (n) {
      RED.nodes.createNode(this, n);
      this.on('input', (msg) => { this.send(msg); });
    });
    RED.nodes.registerType('failer', function (n) {
      RED.nodes.createNode(this, n);
      this.on('input', (msg, send, done) => { send(msg); done(new Error('ERP down')); });
    });
  }

  // helper.settings outlives this file: leave the runtime settings as other test files expect them.
  after(() => helper.settings({}));
  beforeEach((done) => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'webhook-in-'));
    helper.settings({ userDir });
    helper.startServer(done);
  });
  afterEach(async () => {
    sinon.restore();
    await helper.unload();
    if (server) await new Promise((r) => server.close(r));
    server = undefined;
    await new Promise((r) => helper.stopServer(r));
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  /** `via`: the node type between webhook-in and the helper node that collects what came out. */
  async function load(config = {}, { taker = false, via = taker ? 'taker' : 'holder', also, secret = SECRET, id = 'hook' } = {}) {
    const flow = [
      { id: 'tab', type: 'tab' },
      { id, type: 'magento-webhook-in', z: 'tab', x: 0, y: 0, url: '/magento/orders', scheme: 'body', toleranceSeconds: '300', maxBodyKb: '4',
        dedupeHours: '1', respond: 'accept', storeKind: 'sqlite', wires: [also ? ['take', 'also'] : ['take']], ...config },
      { id: 'take', type: via, z: 'tab', x: 0, y: 0, wires: [['out']] },
      { id: 'out', type: 'helper', z: 'tab', x: 0, y: 0 },
    ];
    if (also) flow.push({ id: 'also', type: also, z: 'tab', x: 0, y: 0, wires: [[]] });
    await helper.load([webhookModule, takerModule], flow, { [id]: { secret } });
    if (!server) {
      server = http.createServer((req, res) => app(req, res));
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      port = server.address().port;
    }
    const out = helper.getNode('out');
    const messages = [];
    let waiters = [];
    out.on('input', (msg) => {
      messages.push(msg);
      waiters = waiters.filter((w) => (w.n <= messages.length ? (w.resolve(messages), false) : true));
    });
    return {
      hook: helper.getNode(id),
      messages,
      until: (n) => (messages.length >= n ? Promise.resolve(messages) : new Promise((resolve) => waiters.push({ n, resolve }))),
    };
  }

  function post(body, headers = {}, pathName = '/magento/orders', { to = port, method = 'POST' } = {}) {
    const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: to, path: pathName, method,
        headers: { 'Content-Type': 'application/json', 'Content-Length': raw.length, ...headers } }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json; try { json = JSON.parse(text); } catch { json = text; }
          resolve({ status: res.statusCode, body: json, headers: res.headers });
        });
      });
      req.on('error', reject);
      req.end(raw);
    });
  }

  const now = () => String(Math.floor(Date.now() / 1000));
  const ORDER = { order_id: 42, increment_id: '000000042', created_at: '2024-05-01 10:00:00', status: 'pending', grand_total: 99.5 };

  function signed(body, { scheme = 'body', ts = now(), event = 'order.placed', key, delivery, secret = SECRET } = {}) {
    const raw = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const headers = { 'X-Magento-Timestamp': ts, 'X-Magento-Event': event, 'X-Magento-Signature': computeSignature(secret, raw, scheme, ts) };
    if (key) headers['X-Magento-Idempotency-Key'] = key;
    if (delivery) headers['X-Magento-Delivery-Id'] = delivery;
    return { raw, headers };
  }

  it('accepts a good signature over the raw body and emits the parsed event', async () => {
    const n = await load();
    // Odd spacing: the signature covers these exact bytes, not a re-serialised JSON.
    const { raw, headers } = signed(`{ "order_id":42,  "increment_id":"000000042", "created_at":"2024-05-01 10:00:00" }`, { delivery: 'd-1' });
    const res = await post(raw, headers);
    assert.strictEqual(res.status, 200);
    assert.strictEqual(res.body.status, 'accepted');
    const [msg] = await n.until(1);
    assert.deepStrictEqual(msg.payload, { order_id: 42, increment_id: '000000042', created_at: '2024-05-01 10:00:00' });
    assert.strictEqual(msg.event, 'order.placed');
    assert.strictEqual(msg.idempotencyKey, 'order_000000042_2024-05-01 10:00:00');
    assert.strictEqual(msg.deliveryId, 'd-1');
    assert.strictEqual(msg.req, undefined);
  });

  it('accepts timestamp + "." + body signatures and refuses a body-only signature under that scheme', async () => {
    const n = await load({ scheme: 'timestamp.body' });
    const good = signed(ORDER, { scheme: 'timestamp.body', key: 'k-1' });
    assert.strictEqual((await post(good.raw, good.headers)).status, 200);
    const [msg] = await n.until(1);
    assert.strictEqual(msg.idempotencyKey, 'k-1');
    assert.strictEqual(msg.deliveryId, 'k-1');
    const bodyOnly = signed(ORDER, { scheme: 'body', key: 'k-2' });
    const res = await post(bodyOnly.raw, bodyOnly.headers);
    assert.strictEqual(res.status, 401);
    assert.strictEqual(res.body.error, 'bad-signature');
    // A captured request with its timestamp changed no longer matches.
    const replay = { ...good.headers, 'X-Magento-Timestamp': String(Number(good.headers['X-Magento-Timestamp']) + 5) };
    assert.strictEqual((await post(good.raw, replay)).body.error, 'bad-signature');
    assert.strictEqual(n.messages.length, 1);
  });

  it('answers 401 to a forged or missing signature and sends nothing on; rejections show in the status', async () => {
    const n = await load();
    // node.status is already a spy of the test helper.
    const forged = signed(ORDER, { secret: 'not-the-secret' });
    const r1 = await post(forged.raw, forged.headers);
    assert.strictEqual(r1.status, 401);
    assert.strictEqual(r1.body.error, 'bad-signature');
    const missing = signed(ORDER);
    delete missing.headers['X-Magento-Signature'];
    const r2 = await post(missing.raw, missing.headers);
    assert.strictEqual(r2.status, 401);
    assert.strictEqual(r2.body.error, 'missing-signature');
    const garbage = signed(ORDER);
    garbage.headers['X-Magento-Signature'] = 'zz';
    assert.strictEqual((await post(garbage.raw, garbage.headers)).status, 401);
    assert.strictEqual(n.messages.length, 0);
    const last = n.hook.status.lastCall.args[0];
    assert.strictEqual(last.fill, 'yellow');
    // The helper's RED._ returns message keys: the text is the counts key plus the last reason.
    assert.match(last.text, /status\.counts.*status\.last/);
    for (const call of n.hook.status.getCalls()) assert.ok(!JSON.stringify(call.args).includes(SECRET));
    assert.ok(!JSON.stringify([r1.body, r2.body]).includes(SECRET));
  });

  it('refuses stale and future timestamps (replays) with 401', async () => {
    const n = await load({ toleranceSeconds: '60' });
    const stale = signed(ORDER, { ts: String(Math.floor(Date.now() / 1000) - 3600) });
    const r1 = await post(stale.raw, stale.headers);
    assert.strictEqual(r1.status, 401);
    assert.strictEqual(r1.body.error, 'stale-timestamp');
    const future = signed(ORDER, { ts: String(Math.floor(Date.now() / 1000) + 3600) });
    assert.strictEqual((await post(future.raw, future.headers)).body.error, 'future-timestamp');
    const none = signed(ORDER);
    delete none.headers['X-Magento-Timestamp'];
    assert.strictEqual((await post(none.raw, none.headers)).body.error, 'missing-timestamp');
    assert.strictEqual(n.messages.length, 0);
  });

  it('answers 400 to malformed JSON (correctly signed) and 413 to an oversized body', async () => {
    const n = await load();
    const bad = signed('{"order_id": 42,');
    const r1 = await post(bad.raw, bad.headers);
    assert.strictEqual(r1.status, 400);
    assert.strictEqual(r1.body.error, 'malformed-json');
    const big = signed({ ...ORDER, filler: 'x'.repeat(5000) });
    const r2 = await post(big.raw, big.headers);
    assert.strictEqual(r2.status, 413);
    assert.strictEqual(n.messages.length, 0);
  });

  it('answers 413 to an oversized chunked body (no Content-Length) without reading it all into memory', async () => {
    const n = await load();
    const res = await new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/magento/orders', method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'X-Magento-Signature': 'a'.repeat(64), 'X-Magento-Timestamp': now() } }, (r) => {
        const chunks = [];
        r.on('data', (c) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode, body: JSON.parse(Buffer.concat(chunks).toString()) }));
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(1024));
      req.end();
    });
    assert.strictEqual(res.status, 413);
    assert.strictEqual(res.body.error, 'too-large');
    assert.strictEqual(n.messages.length, 0);
  });

  it('dedupes on the delivery id and on the business key', async () => {
    const n = await load();
    const first = signed(ORDER, { delivery: 'd-1' });
    assert.strictEqual((await post(first.raw, first.headers)).body.status, 'accepted');
    const retry = signed(ORDER, { delivery: 'd-1' });
    const r2 = await post(retry.raw, retry.headers);
    assert.deepStrictEqual([r2.status, r2.body.status, r2.body.by], [200, 'duplicate', 'delivery-id']);
    const again = signed(ORDER, { delivery: 'd-2' });
    const r3 = await post(again.raw, again.headers);
    assert.deepStrictEqual([r3.body.status, r3.body.by], ['duplicate', 'business-key']);
    // The same order event re-sent under a fresh idempotency key (a module that mints one per send).
    const resent = signed(ORDER, { key: 'uuid-2' });
    assert.deepStrictEqual([(await post(resent.raw, resent.headers)).body.by], ['business-key']);
    const update = signed({ ...ORDER, status: 'processing', updated_at: '2024-05-01 11:00:00' }, { event: 'order.updated', delivery: 'd-3' });
    assert.strictEqual((await post(update.raw, update.headers)).body.status, 'accepted');
    await n.until(2);
    assert.deepStrictEqual(n.messages.map((m) => m.event), ['order.placed', 'order.updated']);
  });

  it('answers 503 when the event cannot be stored durably, and accepts the sender\'s retry', async () => {
    const n = await load();
    const put = sinon.stub(SqliteClaimedQueue.prototype, 'putClaimed').rejects(new Error('SQLITE_FULL: database or disk is full'));
    const ev = signed(ORDER, { delivery: 'd-9' });
    const r1 = await post(ev.raw, ev.headers);
    assert.strictEqual(r1.status, 503);
    assert.strictEqual(r1.body.error, 'not-stored');
    assert.ok(r1.headers['retry-after']);
    assert.strictEqual(n.messages.length, 0);
    put.restore();
    const r2 = await post(ev.raw, ev.headers);
    assert.strictEqual(r2.body.status, 'accepted');
    await n.until(1);
  });

  it('Redis: sends on, once, an event another instance journaled and never handed over, once it is older than "Others\' events after"', async function () {
    const Redis = require('ioredis');
    const { openIntakeStores, WebhookIntake } = require('../../dist/lib/orders');
    const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
    // Two instances of one flow: the same node id, so the same journal and seen-set in Redis (unique to this run).
    const id = `hook_${process.pid}_${Date.now()}`;
    const n = await load({ storeKind: 'redis', redisUrl: REDIS_URL, strandedMinutes: '0.02' }, { id, taker: true });
    const other = openIntakeStores({ kind: 'redis', journalName: `magento-webhook-in-journal-${id}`, seenName: `magento-webhook-in-seen-${id}`, directory: userDir, redisUrl: REDIS_URL });
    const redis = new Redis(REDIS_URL);
    try {
      // The other instance accepted an event a minute ago and stopped before its flow took it over.
      const stopped = new WebhookIntake(other.seen, other.journal, { dedupeTtlMs: 3600000 });
      const event = { payload: { order_id: 7 }, body: '{"order_id":7}', event: 'order.placed', idempotencyKey: 'order_7', deliveryId: 'other-7', businessKey: 'order.placed|order_7' };
      const { entryId } = await stopped.accept(event, Date.now() - 60000);
      // This instance (started already: its start replayed nothing) sends it on at its next look (every second here).
      const [sent] = await n.until(1);
      assert.deepStrictEqual([sent.deliveryId, sent.replayed, sent.payload], ['other-7', true, { order_id: 7 }]);
      assert.ok(reported.some((r) => r.key === 'magento-webhook-in.warn.stranded' && r.subs.count === 1), 'a warning says why');
      // Taken over (the taker completed it): gone from the shared journal; not sent a second time.
      for (let i = 0; i < 100 && (await other.journal.list({ state: ['in-flight', 'pending'] })).some((e) => e.id === entryId); i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepStrictEqual((await other.journal.list({ state: ['in-flight', 'pending'] })).map((e) => e.id), []);
      // The sweep's next look finds nothing left to send.
      const looks = sinon.spy(WebhookIntake.prototype, 'unfinished');
      while (looks.callCount < 2) await new Promise((r) => setTimeout(r, 50));
      await Promise.all(looks.returnValues);
      assert.strictEqual(n.messages.length, 1);
      assert.strictEqual(reported.filter((r) => r.key === 'magento-webhook-in.warn.stranded').length, 1);
    } finally {
      await other.close();
      const keys = await redis.keys(`*${id}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it('emits again after a restart an event the flow had not taken over, not one it had', async () => {
    let n = await load();
    const a = signed({ ...ORDER, increment_id: 'A' }, { delivery: 'a' });
    await post(a.raw, a.headers);
    await n.until(1);
    await helper.unload();
    // The holder node never completed its message: the event is still in the journal.
    n = await load({}, { taker: true });
    const [replayed] = await n.until(1);
    assert.strictEqual(replayed.replayed, true);
    assert.strictEqual(replayed.deliveryId, 'a');
    const b = signed({ ...ORDER, increment_id: 'B' }, { delivery: 'b' });
    await post(b.raw, b.headers);
    await n.until(2);
    await helper.unload();
    n = await load({}, { taker: true });
    // Both were taken over by the taker node: nothing comes back. A new event proves the flow is up.
    const c = signed({ ...ORDER, increment_id: 'C' }, { delivery: 'c' });
    await post(c.raw, c.headers);
    const [only] = await n.until(1);
    assert.strictEqual(only.deliveryId, 'c');
    assert.strictEqual(n.messages.length, 1);
  });

  it('takes over the seen-set an older version kept in a file of its own, and removes that file', async () => {
    let n = await load();
    const first = signed(ORDER, { delivery: 'd-1' });
    assert.strictEqual((await post(first.raw, first.headers)).body.status, 'accepted');
    await n.until(1);
    await helper.unload();
    // What an older version left: the claims in magento-webhook-in-seen-<id>.sqlite, none in the journal's file.
    const dir = path.join(userDir, 'magento-erp');
    for (const suffix of ['', '-wal', '-shm']) {
      const from = path.join(dir, `magento-webhook-in-journal-hook.sqlite${suffix}`);
      if (fs.existsSync(from)) fs.renameSync(from, path.join(dir, `magento-webhook-in-seen-hook.sqlite${suffix}`));
    }
    n = await load();
    const again = signed(ORDER, { delivery: 'd-2' });
    const res = await post(again.raw, again.headers);
    assert.deepStrictEqual([res.body.status, res.body.by], ['duplicate', 'business-key']);
    assert.ok(!fs.existsSync(path.join(dir, 'magento-webhook-in-seen-hook.sqlite')), 'the older file is gone');
    // The catalog is not loaded under the test helper: the message shows as its key.
    const logged = helper.log().args.map((a) => a[0]).filter((e) => e.id === 'hook' && /claims-adopted|took over 1 remembered/.test(e.msg));
    assert.strictEqual(logged.length, 1);
    // The older file's journal table was not the journal: nothing was replayed from it.
    assert.strictEqual(n.messages.length, 0);
    const other = signed({ ...ORDER, increment_id: 'B' }, { delivery: 'd-3' });
    assert.strictEqual((await post(other.raw, other.headers)).body.status, 'accepted');
    await n.until(1);
  });

  /** The node's journal, read through the same SQLite connection the node uses. */
  async function journalIds() {
    const store = new SqliteRetryQueueStore({ name: 'magento-webhook-in-journal-hook', directory: path.join(userDir, 'magento-erp') });
    try {
      return (await store.list({ state: ['in-flight', 'pending'] })).map((e) => e.message.deliveryId);
    } finally {
      await store.close();
    }
  }
  async function journalBecomes(expected) {
    const deadline = Date.now() + 5000;
    for (;;) {
      const ids = (await journalIds()).sort();
      if (JSON.stringify(ids) === JSON.stringify(expected) || Date.now() > deadline) return ids;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('removes the journal entry once every wired node completed the event, or received it when it never calls done()', async () => {
    // Two destinations: the entry stays until the second (which never completes) has it too.
    const n = await load({}, { taker: true, also: 'holder' });
    const a = signed({ ...ORDER, increment_id: 'A' }, { delivery: 'a' });
    await post(a.raw, a.headers);
    await n.until(1);
    assert.deepStrictEqual(await journalBecomes(['a']), ['a']);
    await helper.unload();
    // A node without done() (like core switch) takes the event on receipt; the replayed 'a' with it.
    const m = await load({}, { via: 'router' });
    const b = signed({ ...ORDER, increment_id: 'B' }, { delivery: 'b' });
    await post(b.raw, b.headers);
    await m.until(2);
    assert.deepStrictEqual(m.messages.map((msg) => [msg.deliveryId, msg.replayed === true]).sort(), [['a', true], ['b', false]]);
    assert.deepStrictEqual(await journalBecomes([]), []);
  });

  it('keeps in the journal an event a wired node failed (done(err)), and emits it again at the next start', async () => {
    const n = await load({}, { via: 'failer' });
    const a = signed({ ...ORDER, increment_id: 'A' }, { delivery: 'a' });
    await post(a.raw, a.headers);
    await n.until(1);
    const ok = signed({ ...ORDER, increment_id: 'OK' }, { delivery: 'ok' });
    await helper.unload();
    const m = await load({}, { taker: true });
    const [replayed] = await m.until(1);
    assert.deepStrictEqual([replayed.deliveryId, replayed.replayed], ['a', true]);
    await post(ok.raw, ok.headers);
    await m.until(2);
    assert.deepStrictEqual(await journalBecomes([]), []);
  });

  it('answers many concurrent deliveries of one event: exactly one accepted and sent on, the rest duplicates', async () => {
    const n = await load({}, { taker: true });
    const event = { ...ORDER, increment_id: 'C' };
    const answers = await Promise.all(['c1', 'c2', 'c1', 'c3', 'c4', 'c2'].map((delivery) => {
      const ev = signed(event, { delivery });
      return post(ev.raw, ev.headers);
    }));
    assert.deepStrictEqual(answers.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
    assert.strictEqual(answers.filter((r) => r.body.status === 'accepted').length, 1);
    const winner = answers.find((r) => r.body.status === 'accepted').body.deliveryId;
    for (const r of answers.filter((x) => x.body.status === 'duplicate')) {
      assert.strictEqual(r.body.by, r.body.deliveryId === winner ? 'delivery-id' : 'business-key');
    }
    await n.until(1);
    assert.deepStrictEqual(await journalBecomes([]), [], 'the repeats left no journal entry behind');
    assert.strictEqual(n.messages.length, 1);
  });

  describe('on Node-RED\'s HTTP server', function () {
    it('answers its path at the top of the root app, past none of Express\'s middleware, when no httpNodeAuth or httpNodeMiddleware applies', async () => {
      throughExpress.length = 0;
      const n = await load();
      const ev = signed(ORDER, { delivery: 'fast-1' });
      assert.strictEqual((await post(ev.raw, ev.headers)).status, 200);
      await n.until(1);
      assert.deepStrictEqual(throughExpress, [], 'answered before the rest of the stack');
    });

    it('goes through Express when httpNodeMiddleware is set, and the middleware can refuse', async () => {
      const seen = [];
      helper.settings({
        userDir,
        httpNodeMiddleware: (req, res, next) => {
          seen.push(req.headers['x-gateway-token']);
          if (req.headers['x-gateway-token'] !== 'letmein') { res.status(403).send('no'); return; }
          next();
        },
      });
      throughExpress.length = 0;
      const n = await load();
      const ev = signed(ORDER, { delivery: 'mw-1' });
      assert.strictEqual((await post(ev.raw, ev.headers)).status, 403, 'the middleware refused it');
      assert.strictEqual(n.messages.length, 0);
      const ok = await post(ev.raw, { ...ev.headers, 'X-Gateway-Token': 'letmein' });
      assert.strictEqual(ok.status, 200, JSON.stringify(ok.body));
      await n.until(1);
      assert.deepStrictEqual(seen, [undefined, 'letmein']);
      assert.deepStrictEqual(throughExpress, ['/magento/orders', '/magento/orders']);
    });

    it('goes through Express when httpNodeAuth is set (Node-RED puts the authentication in front of httpNode)', async () => {
      helper.settings({ userDir, httpNodeAuth: { user: 'hook', pass: '$2b$08$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' } });
      throughExpress.length = 0;
      const n = await load();
      const ev = signed(ORDER, { delivery: 'auth-1' });
      assert.strictEqual((await post(ev.raw, ev.headers)).status, 200);
      await n.until(1);
      assert.deepStrictEqual(throughExpress, ['/magento/orders'], 'not answered ahead of the authentication');
    });
  });

  describe('secret from the environment', function () {
    const VAR = 'MAGENTO_ERP_TEST_WEBHOOK_SECRET';
    afterEach(() => { delete process.env[VAR]; });

    it('expands ${NAME} references inside the secret, as store-config does', async () => {
      process.env[VAR] = 'from-env-Zq9';
      // Node-RED itself expands only a credential that is exactly ${NAME}: this one the node must expand.
      const n = await load({}, { secret: `whsec-\${${VAR}}-2024` });
      const ev = signed(ORDER, { delivery: 'env-1', secret: 'whsec-from-env-Zq9-2024' });
      const res = await post(ev.raw, ev.headers);
      assert.strictEqual(res.status, 200, JSON.stringify(res.body));
      await n.until(1);
      const literal = signed(ORDER, { delivery: 'env-2', secret: `whsec-\${${VAR}}-2024` });
      assert.strictEqual((await post(literal.raw, literal.headers)).status, 401, 'the reference is not the key');
    });

    it('refuses to start when the referenced variable is not set, naming it and never using the reference as the key', async () => {
      reported.length = 0;
      const n = await load({}, { secret: `\${${VAR}}` });
      const errors = helper.log().args.map((a) => a[0]).filter((e) => e.id === 'hook' && e.level === helper.log().ERROR);
      assert.deepStrictEqual(errors.map((e) => e.msg), ['magento-webhook-in.errors.config'], 'the node reports a configuration error');
      const reason = reported.find((r) => r.key === 'magento-webhook-in.errors.config').subs.reason;
      assert.strictEqual(reason, 'secret: environment variable MAGENTO_ERP_TEST_WEBHOOK_SECRET is not set');
      const ev = signed(ORDER, { delivery: 'env-3', secret: `\${${VAR}}` });
      const res = await post(ev.raw, ev.headers);
      assert.notStrictEqual(res.status, 200, 'a request signed with the literal reference must not be accepted');
      assert.strictEqual(n.messages.length, 0);
    });
  });

  it('leaves the answer to an http response node when asked', async () => {
    const n = await load({ respond: 'flow' });
    const ev = signed(ORDER, { delivery: 'f-1' });
    const pending = post(ev.raw, ev.headers);
    const [msg] = await n.until(1);
    assert.ok(msg.req && msg.res && msg.res._res);
    msg.res._res.status(201).json({ ok: true });
    const res = await pending;
    assert.strictEqual(res.status, 201);
  });
  describe('on a port of its own', function () {
    /** Resolves once the node reported `key` (its listen status or error) through RED._. */
    function reportedKey(key, subs = () => true) {
      return new Promise((resolve) => {
        const look = () => {
          const found = reported.find((r) => r.key === key && subs(r.subs || {}));
          if (found) resolve(found.subs);
          else setImmediate(look);
        };
        look();
      });
    }
    const errorsOf = (id) => helper.log().args.map((a) => a[0]).filter((e) => e.id === id && e.level === helper.log().ERROR);
    let own;
    beforeEach(async () => {
      reported.length = 0;
      own = await freePort();
    });

    it('serves its path on that port without Node-RED\'s HTTP stack: 200 and the event, 404 elsewhere, 405 for GET', async () => {
      const n = await load({ listen: 'port', port: String(own), host: '127.0.0.1' });
      const { address, path: shown } = await reportedKey('magento-webhook-in.status.listening-port');
      assert.strictEqual(address, `http://127.0.0.1:${own}`);
      assert.strictEqual(shown, '/magento/orders');
      const ev = signed(ORDER, { delivery: 'own-1' });
      const res = await post(ev.raw, ev.headers, '/magento/orders', { to: own });
      assert.strictEqual(res.status, 200, JSON.stringify(res.body));
      assert.strictEqual(res.body.status, 'accepted');
      const [msg] = await n.until(1);
      assert.deepStrictEqual(msg.payload, ORDER);
      assert.strictEqual(msg.deliveryId, 'own-1');
      // The same request again: a duplicate, answered on the own port too.
      assert.strictEqual((await post(ev.raw, ev.headers, '/magento/orders?x=1', { to: own })).body.status, 'duplicate');
      const forged = await post(ev.raw, { ...ev.headers, 'X-Magento-Signature': 'ab'.repeat(32) }, '/magento/orders', { to: own });
      assert.strictEqual(forged.status, 401);
      const elsewhere = await post(ev.raw, ev.headers, '/magento/other', { to: own });
      assert.strictEqual(elsewhere.status, 404);
      assert.strictEqual(elsewhere.body.error, 'not-found');
      const get = await post('', {}, '/magento/orders', { to: own, method: 'GET' });
      assert.strictEqual(get.status, 405);
      assert.strictEqual(get.headers.allow, 'POST');
      // Not on Node-RED's server: the route is not there.
      assert.strictEqual((await post(ev.raw, ev.headers)).status, 404);
      assert.strictEqual(n.messages.length, 1);
    });

    it('shares a port between nodes with different paths, refuses a second node on the same path, and frees the port on close', async () => {
      const flow = [
        { id: 'tab', type: 'tab' },
        { id: 'a', type: 'magento-webhook-in', z: 'tab', url: '/orders/a', listen: 'port', port: String(own), respond: 'accept', storeKind: 'memory', wires: [['out']] },
        { id: 'b', type: 'magento-webhook-in', z: 'tab', url: '/orders/b', listen: 'port', port: String(own), respond: 'accept', storeKind: 'memory', wires: [['out']] },
        { id: 'c', type: 'magento-webhook-in', z: 'tab', url: '/orders/a', listen: 'port', port: String(own), respond: 'accept', storeKind: 'memory', wires: [['out']] },
        { id: 'out', type: 'helper', z: 'tab' },
      ];
      await helper.load([webhookModule, takerModule], flow, { a: { secret: SECRET }, b: { secret: SECRET }, c: { secret: SECRET } });
      const refused = await reportedKey('magento-webhook-in.errors.listen');
      assert.match(refused.reason, /\/orders\/a on 0\.0\.0\.0:\d+ is served by another webhook-in node already/);
      await reportedKey('magento-webhook-in.status.listening-port', (s) => s.path === '/orders/b');
      await reportedKey('magento-webhook-in.status.listening-port', (s) => s.path === '/orders/a');
      assert.deepStrictEqual([errorsOf('a').length, errorsOf('b').length, errorsOf('c').length], [0, 0, 1], 'only the third node failed');
      const out = helper.getNode('out');
      const seen = [];
      out.on('input', (msg) => seen.push(msg.deliveryId));
      for (const [where, delivery] of [['/orders/a', 'to-a'], ['/orders/b', 'to-b']]) {
        const ev = signed({ ...ORDER, increment_id: delivery }, { delivery });
        const res = await post(ev.raw, ev.headers, where, { to: own });
        assert.strictEqual(res.status, 200, `${where}: ${JSON.stringify(res.body)}`);
      }
      assert.deepStrictEqual(seen.sort(), ['to-a', 'to-b']);

      await helper.unload();
      // The last node closed the server: the port can be taken again at once.
      const again = net.createServer();
      await new Promise((resolve, reject) => { again.once('error', reject); again.listen(own, resolve); });
      await new Promise((r) => again.close(r));
    });

    it('serves HTTPS with the certificate of a TLS configuration node; a plain endpoint cannot share that port', async () => {
      // A throw-away self-signed certificate for 127.0.0.1 (openssl, as .ci/run installs it).
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webhook-tls-'));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
      const cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
      const key = fs.readFileSync(path.join(dir, 'key.pem'), 'utf8');
      fs.rmSync(dir, { recursive: true, force: true });
      const flow = [
        { id: 'tab', type: 'tab' },
        { id: 'cert', type: 'tls-config', name: 'webhook certificate', cert: '', key: '', ca: '', verifyservercert: true },
        { id: 'secure', type: 'magento-webhook-in', z: 'tab', url: '/secure', listen: 'port', port: String(own), host: '127.0.0.1', tls: 'cert', respond: 'accept', storeKind: 'memory', wires: [['out']] },
        { id: 'plain', type: 'magento-webhook-in', z: 'tab', url: '/plain', listen: 'port', port: String(own), host: '127.0.0.1', respond: 'accept', storeKind: 'memory', wires: [['out']] },
        { id: 'out', type: 'helper', z: 'tab' },
      ];
      await helper.load([tlsModule, webhookModule, takerModule], flow, { cert: { certdata: cert, keydata: key }, secure: { secret: SECRET }, plain: { secret: SECRET } });
      const { address } = await reportedKey('magento-webhook-in.status.listening-port');
      assert.strictEqual(address, `https://127.0.0.1:${own}`);
      const { reason } = await reportedKey('magento-webhook-in.errors.listen');
      assert.match(reason, /already serves HTTPS under another TLS configuration/);
      const got = [];
      helper.getNode('out').on('input', (msg) => got.push(msg.deliveryId));
      const ev = signed(ORDER, { delivery: 'tls-1' });
      const res = await new Promise((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port: own, path: '/secure', method: 'POST', ca: cert,
          headers: { 'Content-Type': 'application/json', 'Content-Length': ev.raw.length, ...ev.headers } }, (r) => {
          let text = '';
          r.on('data', (c) => { text += c; });
          r.on('end', () => resolve({ status: r.statusCode, body: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end(ev.raw);
      });
      assert.deepStrictEqual([res.status, res.body.status], [200, 'accepted']);
      assert.deepStrictEqual(got, ['tls-1']);
      // Plain HTTP on that port gets no answer from it.
      await assert.rejects(post(ev.raw, ev.headers, '/secure', { to: own }));
    });

    it('refuses a TLS configuration without a certificate and key, naming tls', async () => {
      const flow = [
        { id: 'tab', type: 'tab' },
        { id: 'empty', type: 'tls-config', cert: '', key: '', ca: '', verifyservercert: true },
        { id: 'hook', type: 'magento-webhook-in', z: 'tab', url: '/secure', listen: 'port', port: String(own), tls: 'empty', respond: 'accept', storeKind: 'memory', wires: [[]] },
      ];
      await helper.load([tlsModule, webhookModule], flow, { hook: { secret: SECRET } });
      const got = reported.find((r) => r.key === 'magento-webhook-in.errors.config').subs.reason;
      assert.match(got, /^tls: the TLS configuration has no certificate and private key/);
    });

    it('waits with a yellow status and one warning while another program holds the port, and stops trying when closed', async () => {
      const squatter = net.createServer();
      await new Promise((r) => squatter.listen(own, '127.0.0.1', r));
      try {
        const n = await load({ listen: 'port', port: String(own), host: '127.0.0.1' });
        const { reason, seconds } = await reportedKey('magento-webhook-in.warn.port-in-use');
        assert.strictEqual(reason, `127.0.0.1:${own} is in use by another program or server`);
        assert.strictEqual(seconds, 10);
        assert.deepStrictEqual((await reportedKey('magento-webhook-in.status.waiting-port')).address, `http://127.0.0.1:${own}`);
        assert.deepStrictEqual(errorsOf('hook'), [], 'waiting is not an error');
        assert.strictEqual(n.messages.length, 0);
        await helper.unload();
      } finally {
        await new Promise((r) => squatter.close(r));
      }
      // Closed while waiting: the retry is cancelled, so nothing takes the port once it is free.
      const again = net.createServer();
      await new Promise((resolve, reject) => { again.once('error', reject); again.listen(own, '127.0.0.1', resolve); });
      await new Promise((r) => again.close(r));
    });

    for (const [config, field, reason] of [
      [{ listen: 'port', port: '' }, 'port', /is required when listening on a port of its own/],
      [{ listen: 'port', port: '70000' }, 'port', /from 1 to 65535 \(got 70000\)/],
      [{ listen: 'port', port: '80.5' }, 'port', /whole number/],
      [{ listen: 'port', port: '8081', host: 'bad host' }, 'host', /"bad host" is not a host name or IP address/],
      [{ listen: 'port', port: '8081', respond: 'flow' }, 'respond', /an http response node can only answer requests that came through Node-RED's HTTP server/],
    ]) {
      it(`refuses ${JSON.stringify(config)} naming ${field}`, async () => {
        const n = await load(config);
        assert.deepStrictEqual(errorsOf('hook').map((e) => e.msg), ['magento-webhook-in.errors.config']);
        const got = reported.find((r) => r.key === 'magento-webhook-in.errors.config').subs.reason;
        assert.ok(got.startsWith(`${field}: `), got);
        assert.match(got, reason);
        assert.strictEqual(n.messages.length, 0);
      });
    }
  });
});
