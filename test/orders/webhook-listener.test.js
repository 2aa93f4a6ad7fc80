'use strict';
// webhook-in's own server: one plain HTTP server per address shared by routes, closed with the last one.
const assert = require('assert');
const http = require('http');
const net = require('net');
// The e2e helpers' free loopback port.
const { freePort } = require('../e2e/examples-support');
const { WebhookListeners, openWhenFree } = require('../../dist/lib/orders/webhook-listener');


function request(port, path, { agent } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

const ok = (name) => (req, res) => { req.resume(); req.on('end', () => res.end(name)); };

describe('orders: webhook listeners on a port of their own', function () {
  let listeners;
  let port;
  beforeEach(async () => {
    listeners = new WebhookListeners();
    port = await freePort();
  });

  it('a route opened again while its server is still closing (a redeploy) waits for the port and serves', async () => {
    const agent = new http.Agent({ keepAlive: true });
    const first = await listeners.open({ host: '127.0.0.1', port }, '/hook', ok('first'));
    assert.strictEqual((await request(port, '/hook', { agent })).text, 'first');
    // The keep-alive connection is idle now; closing drops it and frees the port for the new server.
    const closing = first.close();
    const second = await listeners.open({ host: '127.0.0.1', port }, '/hook', ok('second'));
    await closing;
    agent.destroy();
    assert.strictEqual((await request(port, '/hook')).text, 'second');
    await second.close();
  });

  it('lets a request in progress finish when its server closes', async () => {
    let release;
    const held = new Promise((r) => { release = r; });
    let arrived;
    const arrival = new Promise((r) => { arrived = r; });
    const route = await listeners.open({ host: '127.0.0.1', port }, '/slow', (req, res) => {
      req.resume();
      arrived();
      held.then(() => res.end('finished'));
    });
    const pending = request(port, '/slow');
    await arrival;
    // Closed while the request is being answered: the answer still goes out, then the server closes.
    const closed = route.close();
    release();
    assert.deepStrictEqual(await pending, { status: 200, text: 'finished' });
    await closed;
  });

  it('a certificate or key that cannot be used is refused with the reason, and leaves the port free', async () => {
    await assert.rejects(listeners.open({ host: '127.0.0.1', port, tls: { id: 'bad', cert: 'not a certificate', key: 'not a key' } }, '/hook', ok('x')),
      (err) => err.name === 'WebhookListenError' && /^the TLS certificate or key cannot be used \(/.test(err.message) && !/not a key/.test(err.message));
    const plain = await listeners.open({ host: '127.0.0.1', port }, '/hook', ok('plain'));
    assert.strictEqual((await request(port, '/hook')).text, 'plain');
    await plain.close();
  });

  it('openWhenFree: tries a port in use again until it is free, then serves', async () => {
    const squatter = net.createServer();
    await new Promise((r) => squatter.listen(port, '127.0.0.1', r));
    const waits = [];
    let freed;
    const pending = openWhenFree({ host: '127.0.0.1', port }, '/hook', ok('late'), {
      listeners,
      retryMs: 5,
      onWaiting: (err, attempt) => {
        waits.push([err.code, attempt]);
        // Freed after the second refusal: the third attempt listens.
        if (attempt === 2) freed = new Promise((r) => squatter.close(r));
      },
    });
    const route = await pending.opened;
    await freed;
    assert.deepStrictEqual(waits, [['EADDRINUSE', 1], ['EADDRINUSE', 2]]);
    assert.strictEqual((await request(port, '/hook')).text, 'late');
    await route.close();
  });

  it('openWhenFree: cancelled while waiting, it resolves undefined and never listens; other failures are final', async () => {
    const squatter = net.createServer();
    await new Promise((r) => squatter.listen(port, '127.0.0.1', r));
    let pending;
    const waited = new Promise((resolve) => {
      pending = openWhenFree({ host: '127.0.0.1', port }, '/hook', ok('x'), { listeners, retryMs: 60_000, onWaiting: resolve });
    });
    await waited;
    pending.cancel();
    assert.strictEqual(await pending.opened, undefined);
    await new Promise((r) => squatter.close(r));
    const bad = openWhenFree({ host: '127.0.0.1', port, tls: { id: 't', cert: 'x', key: 'y' } }, '/hook', ok('x'), { listeners, retryMs: 5 });
    await assert.rejects(bad.opened, /TLS certificate or key cannot be used/);
  });

  it('refuses a port out of range before listening', async () => {
    await assert.rejects(listeners.open({ port: 0 }, '/x', ok('x')), /port: must be a whole number from 1 to 65535 \(got 0\)/);
    await assert.rejects(listeners.open({ port: 65536 }, '/x', ok('x')), /got 65536/);
  });
});
