'use strict';
const assert = require('assert');
const http = require('http');
const { once } = require('events');
const { createMagentoClient, encodePathSegment } = require('../../dist/lib/magento/client');
const { verifySignature } = require('../../dist/lib/magento/oauth1');
const { fromQuery } = require('../../dist/lib/magento/search-criteria');
const { MagentoError } = require('../../dist/lib/magento/errors');

const OAUTH = { type: 'oauth1', consumerKey: 'ck-0001', consumerSecret: 'cs-secret-0001', accessToken: 'at-token-0001', accessTokenSecret: 'ats-secret-0001' };
const SECRETS = ['cs-secret-0001', 'at-token-0001', 'ats-secret-0001', 'bearer-token-0001', 'admin-password-0001', 'admin-token-'];

function settings(port, overrides = {}) {
  return {
    name: 'test-store', baseUrl: `http://127.0.0.1:${port}`, storeCode: 'default', auth: OAUTH, timeoutMs: 5000,
    maxConcurrency: 4, requestsPerSecond: 0, rejectUnauthorized: true,
    limits: { maxItemsPerRequest: 20, maxPageSize: 300, maxBulkItems: 5000 }, ...overrides,
  };
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

function assertNoSecret(value, what) {
  const text = typeof value === 'string' ? value : JSON.stringify(value) + (value && value.stack ? value.stack : '');
  for (const s of SECRETS) assert.ok(!text.includes(s), `${what} holds a secret (${s}): ${text}`);
}

describe('Magento REST client', function () {
  let server;
  let port;
  let handler;
  let client;
  const records = [];

  before(async function () {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => handler(req, res, body));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = server.address().port;
  });
  after(function () { server.close(); });
  afterEach(function () {
    if (client) client.close();
    client = undefined;
    for (const r of records) assertNoSecret(r, 'CallRecord');
    records.length = 0;
  });

  function make(overrides) {
    client = createMagentoClient(settings(port, overrides));
    client.onCall((r) => records.push(r));
    return client;
  }

  it('signs with OAuth 1.0a exactly as Magento verifies (searchCriteria, SKU with /, odd characters)', async function () {
    const seen = [];
    handler = (req, res) => {
      const url = `http://${req.headers.host}${req.url}`;
      const v = verifySignature({ method: req.method, url, authorization: req.headers.authorization, consumerSecret: OAUTH.consumerSecret, tokenSecret: OAUTH.accessTokenSecret });
      seen.push({ ok: v.ok, reason: v.reason, url: req.url, method: v.params.oauth_signature_method });
      if (!v.ok) return json(res, 401, { message: 'The signature is invalid. Verify and try again.' });
      json(res, 200, { sku: 'A/B 1#2+3', criteria: fromQuery(req.url.split('?')[1] || '') });
    };
    make();
    const sku = 'A/B 1#2+3 (50%)';
    const answer = await client.request({
      method: 'GET', path: `/products/${encodePathSegment(sku)}`,
      query: { 'searchCriteria[filter_groups][0][filters][0][field]': 'name', 'searchCriteria[filter_groups][0][filters][0][value]': '50% off + (new)', 'searchCriteria[filter_groups][0][filters][0][condition_type]': 'like' },
      operation: 'products.get', entity: { type: 'product', id: sku },
    });
    assert.deepStrictEqual(seen.map((s) => [s.ok, s.method]), [[true, 'HMAC-SHA256']], JSON.stringify(seen));
    assert.ok(seen[0].url.startsWith('/rest/default/V1/products/A%2FB%201%232%2B3%20%2850%25%29?'));
    assert.deepStrictEqual(answer.criteria.filterGroups, [[{ field: 'name', value: '50% off + (new)', conditionType: 'like' }]]);
    await client.request({ method: 'POST', path: '/products', body: { product: { sku: 'x' } } });
    assert.strictEqual(seen[1].ok, true, 'a JSON body is not part of the signature');
    assert.strictEqual(records[0].route, '/rest/default/V1/products/A%2FB%201%232%2B3%20%2850%25%29');
    assert.strictEqual(records[0].operation, 'products.get');
    assert.strictEqual(records[0].entityType, 'product');
    assert.strictEqual(records[0].status, 200);
  });

  it('pages by total_count: a page past the end answers the last page again and is never asked for', async function () {
    const rows = Array.from({ length: 7 }, (_, i) => ({ entity_id: i + 1 }));
    const asked = [];
    handler = (req, res) => {
      const c = fromQuery(req.url.split('?')[1]);
      asked.push({ page: c.currentPage, sort: c.sortOrders, fields: new URL(req.url, 'http://x').searchParams.get('fields') });
      const last = Math.max(1, Math.ceil(rows.length / c.pageSize));
      const page = Math.min(c.currentPage, last); // Magento's quirk
      json(res, 200, { items: rows.slice((page - 1) * c.pageSize, page * c.pageSize), search_criteria: {}, total_count: rows.length });
    };
    make({ limits: { maxItemsPerRequest: 20, maxPageSize: 3, maxBulkItems: 5000 } });
    const got = [];
    for await (const page of client.pages('/orders', { filterGroups: [], sortOrders: [{ field: 'created_at', direction: 'ASC' }], pageSize: 50 }, { stableSortKey: 'entity_id', fields: 'items[entity_id]' })) {
      got.push({ page: page.page, pages: page.pages, ids: page.items.map((r) => r.entity_id) });
    }
    assert.deepStrictEqual(got, [
      { page: 1, pages: 3, ids: [1, 2, 3] }, { page: 2, pages: 3, ids: [4, 5, 6] }, { page: 3, pages: 3, ids: [7] },
    ]);
    assert.deepStrictEqual(asked.map((a) => a.page), [1, 2, 3]);
    assert.deepStrictEqual(asked[0].sort, [{ field: 'created_at', direction: 'ASC' }, { field: 'entity_id', direction: 'ASC' }]);
    assert.strictEqual(asked[0].fields, 'items[entity_id],total_count');
  });

  it('an empty list is one page, and the loop does not spin on empty answers', async function () {
    let calls = 0;
    handler = (req, res) => { calls++; json(res, 200, { items: [], search_criteria: {}, total_count: 0 }); };
    make();
    const pages = [];
    for await (const p of client.pages('/orders', { filterGroups: [] })) pages.push(p);
    assert.strictEqual(pages.length, 1);
    assert.strictEqual(pages[0].pages, 1);
    assert.strictEqual(calls, 1);
  });

  it('refuses a page size above the store\'s limit', async function () {
    make();
    await assert.rejects(client.search('/orders', { filterGroups: [], pageSize: 301 }), (e) => e.field === 'searchCriteria.pageSize');
  });

  it('builds sync, async and bulk routes and honours a per-call store code', async function () {
    const urls = [];
    handler = (req, res) => { urls.push(req.url); json(res, 202, { bulk_uuid: 'u', request_items: [], errors: false }); };
    make({ auth: { type: 'none' }, baseUrl: `http://127.0.0.1:${port}/shop/index.php/rest/` });
    await client.request({ method: 'POST', path: '/inventory/source-items', mode: 'async', body: {} });
    await client.request({ method: 'POST', path: '/products', mode: 'bulk', storeCode: 'all', body: [] });
    await client.request({ method: 'GET', path: '/store/storeConfigs', storeCode: 'fr_view' });
    assert.deepStrictEqual(urls, ['/shop/rest/default/async/V1/inventory/source-items', '/shop/rest/all/async/bulk/V1/products', '/shop/rest/fr_view/V1/store/storeConfigs']);
  });

  it('sends a Bearer token and turns a 401 into an auth error with the 2.4.4 hint, without the token', async function () {
    handler = (req, res) => {
      assert.strictEqual(req.headers.authorization, 'Bearer bearer-token-0001');
      json(res, 401, { message: 'The consumer isn\'t authorized to access %resources.', parameters: { resources: 'Magento_Sales::sales' } });
    };
    make({ auth: { type: 'bearer', token: 'bearer-token-0001' } });
    const err = await client.request({ method: 'GET', path: '/orders/1', operation: 'orders.get' }).catch((e) => e);
    assert.ok(err instanceof MagentoError);
    assert.strictEqual(err.errorClass, 'auth');
    assert.strictEqual(err.reason, 'integration-bearer-refused');
    assert.match(err.message, /Magento_Sales::sales/);
    assertNoSecret(err, 'error');
    assertNoSecret(err.toJSON(), 'error JSON');
    assert.strictEqual(records[0].errorClass, 'auth');
    assert.strictEqual(records[0].status, 401);
  });

  it('admin auth: one token fetch shared by concurrent callers, cached, refreshed once on a 401', async function () {
    let tokenCalls = 0;
    let valid = new Set();
    handler = (req, res, body) => {
      if (req.url === '/rest/default/V1/integration/admin/token') {
        tokenCalls++;
        assert.deepStrictEqual(JSON.parse(body), { username: 'admin', password: 'admin-password-0001' });
        assert.strictEqual(req.headers.authorization, undefined);
        const token = `admin-token-${tokenCalls}`;
        valid.add(token);
        return json(res, 200, token);
      }
      const token = (req.headers.authorization || '').replace(/^Bearer /, '');
      if (!valid.has(token)) return json(res, 401, { message: 'The consumer isn\'t authorized to access %resources.', parameters: { resources: 'Magento_Sales::sales' } });
      json(res, 200, { ok: token });
    };
    make({ auth: { type: 'admin', username: 'admin', password: 'admin-password-0001' } });
    const answers = await Promise.all(Array.from({ length: 5 }, () => client.request({ method: 'GET', path: '/orders/1' })));
    assert.strictEqual(tokenCalls, 1);
    assert.ok(answers.every((a) => a.ok === 'admin-token-1'));
    await client.request({ method: 'GET', path: '/orders/2' });
    assert.strictEqual(tokenCalls, 1, 'cached');
    valid = new Set(); // the token expired on the store
    const after = await client.request({ method: 'GET', path: '/orders/3' });
    assert.strictEqual(after.ok, 'admin-token-2');
    assert.strictEqual(tokenCalls, 2);
    // A store that refuses every token: one refresh, then the 401 comes through.
    handler = (req, res) => {
      if (req.url.endsWith('/integration/admin/token')) { tokenCalls++; return json(res, 200, `admin-token-${tokenCalls}`); }
      json(res, 401, { message: 'The consumer isn\'t authorized to access %resources.', parameters: { resources: 'Magento_Sales::sales' } });
    };
    const err = await client.request({ method: 'GET', path: '/orders/4' }).catch((e) => e);
    assert.strictEqual(err.errorClass, 'auth');
    assert.strictEqual(tokenCalls, 3, 'exactly one refresh');
    assertNoSecret(err, 'error');
    assert.ok(records.some((r) => r.operation === 'integration.admin-token'));
  });

  it('admin auth refused because of two-factor authentication is explained', async function () {
    handler = (req, res) => json(res, 401, { message: 'Please use the 2fa provider-specific endpoints to obtain a token.', parameters: { active_providers: ['google'] } });
    make({ auth: { type: 'admin', username: 'admin', password: 'admin-password-0001' } });
    const err = await client.request({ method: 'GET', path: '/orders/1' }).catch((e) => e);
    assert.strictEqual(err.reason, 'two-factor-auth');
    assert.strictEqual(err.errorClass, 'auth');
    assertNoSecret(err, 'error');
  });

  it('keeps at most maxConcurrency requests in flight', async function () {
    let held = [];
    let arrived = 0;
    let maxHeld = 0;
    let checked = false;
    handler = (req, res) => {
      arrived++;
      held.push(res);
      maxHeld = Math.max(maxHeld, held.length);
      if (held.length === 2 && !checked) {
        checked = true;
        // Give a client that ignored the cap every chance to send a third request, then release.
        setTimeout(() => { const h = held; held = []; h.forEach((r) => json(r, 200, { ok: true })); }, 100);
      } else if (checked) {
        const h = held; held = []; h.forEach((r) => json(r, 200, { ok: true }));
      }
    };
    make({ maxConcurrency: 2, auth: { type: 'none' } });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => client.request({ method: 'GET', path: `/orders/${i}` })));
    assert.strictEqual(results.length, 6);
    assert.strictEqual(arrived, 6);
    assert.strictEqual(maxHeld, 2);
  });

  it('carries Retry-After of a 429 and classifies it transient', async function () {
    handler = (req, res) => json(res, 429, { message: 'Too many requests' }, { 'Retry-After': '3' });
    make();
    const err = await client.request({ method: 'GET', path: '/orders/1' }).catch((e) => e);
    assert.strictEqual(err.errorClass, 'transient');
    assert.strictEqual(err.retryAfterMs, 3000);
  });

  it('recognises the input limit error so callers can split', async function () {
    handler = (req, res) => json(res, 400, { message: 'Maximum items of type "%type" is %max', parameters: { type: 'SourceItemInterface', max: 20 } });
    make();
    const err = await client.request({ method: 'POST', path: '/inventory/source-items', body: { sourceItems: [] } }).catch((e) => e);
    assert.deepStrictEqual(err.inputLimit, { type: 'SourceItemInterface', max: 20 });
  });

  it('times out as a transient failure', async function () {
    const pending = [];
    handler = (req, res) => { pending.push(res); };
    make({ timeoutMs: 100 });
    const err = await client.request({ method: 'GET', path: '/orders/1' }).catch((e) => e);
    pending.forEach((r) => r.destroy());
    assert.strictEqual(err.errorClass, 'transient');
    assert.strictEqual(err.reason, 'timeout');
    assert.match(err.message, /100 ms/);
  });

  it('reports a refused connection and a redirect clearly', async function () {
    const dead = http.createServer();
    dead.listen(0, '127.0.0.1');
    await once(dead, 'listening');
    const deadPort = dead.address().port;
    await new Promise((r) => dead.close(r));
    const c = createMagentoClient(settings(deadPort, { auth: { type: 'none' } }));
    const err = await c.request({ method: 'GET', path: '/orders/1' }).catch((e) => e);
    c.close();
    assert.strictEqual(err.errorClass, 'transient');
    assert.strictEqual(err.reason, 'connection-refused');
    handler = (req, res) => { res.writeHead(301, { Location: 'https://www.example.com/rest/default/V1/orders/1' }); res.end(); };
    make({ auth: { type: 'none' } });
    const redirect = await client.request({ method: 'GET', path: '/orders/1' }).catch((e) => e);
    assert.strictEqual(redirect.errorClass, 'permanent');
    assert.match(redirect.message, /https:\/\/www\.example\.com/);
  });

  it('reads Magento\'s ASCII JSON (\\u escapes) and UTF-8 JSON (with or without a BOM) as the same text', async function () {
    const name = 'Crème brûlée – 東京 😀';
    const bodies = [
      // Magento's renderer escapes every non-ASCII character: the body is plain ASCII.
      Buffer.from(JSON.stringify({ name }).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`), 'latin1'),
      Buffer.from(JSON.stringify({ name }), 'utf8'),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ name }), 'utf8')]),
    ];
    let n = 0;
    handler = (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(bodies[n++]);
    };
    const c = make({ auth: { type: 'bearer', token: 'bearer-token-0001' } });
    for (let i = 0; i < bodies.length; i++) {
      assert.deepStrictEqual(await c.request({ method: 'GET', path: '/store/storeConfigs' }), { name }, `body ${i}`);
    }
    // A body that is not JSON still comes back as its text (here: the HTML check names it).
    handler = (req, res) => { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('plain words – ok'); };
    assert.strictEqual(await c.request({ method: 'GET', path: '/store/storeConfigs' }), 'plain words – ok');
  });

  it('an HTML page with 200 is an error, not data', async function () {
    handler = (req, res) => { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end('<!DOCTYPE html><html></html>'); };
    make({ auth: { type: 'none' } });
    const err = await client.request({ method: 'GET', path: '/store/storeConfigs' }).catch((e) => e);
    assert.strictEqual(err.reason, 'not-json');
  });

  it('validates settings and requests, naming the field', function () {
    assert.throws(() => createMagentoClient(settings(port, { baseUrl: 'shop.example.com' })), (e) => e.field === 'baseUrl');
    assert.throws(() => createMagentoClient(settings(port, { storeCode: 'de-de' })), (e) => e.field === 'storeCode');
    assert.throws(() => createMagentoClient(settings(port, { auth: { type: 'oauth1', consumerKey: 'k' } })), (e) => e.field === 'credentials.consumerSecret');
    assert.throws(() => createMagentoClient(settings(port, { maxConcurrency: 0 })), (e) => e.field === 'maxConcurrency');
    make();
    return Promise.all([
      assert.rejects(client.request({ method: 'GET', path: '/products/a/b?x=1' }), (e) => e.field === 'path'),
      assert.rejects(client.request({ method: 'PATCH', path: '/x' }), (e) => e.field === 'method'),
    ]);
  });

  it('settings are not enumerable on the client and close() stops further calls', async function () {
    make({ auth: { type: 'bearer', token: 'bearer-token-0001' } });
    assertNoSecret(JSON.stringify(client), 'serialised client');
    assert.strictEqual(client.settings.storeCode, 'default');
    client.close();
    await assert.rejects(client.request({ method: 'GET', path: '/orders/1' }), (e) => e.errorClass === 'transient' && e.reason === 'closed');
  });
});
