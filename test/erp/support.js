'use strict';
// Shared by test/erp/*.test.js and test/nodes/erp-request.test.js: a canonical order the demo ERP accepts,
// and a tiny loopback server whose answer each test sets (status, headers, body, or no answer at all).
const http = require('http');

/** A canonical order as map-order produces it (every field erp-order.schema.json requires). */
function order(number, items = [{ sku: '24-MB01', qty: 2 }]) {
  return {
    order_number: number,
    status: 'processing',
    created_at: '2024-05-01T10:00:00Z',
    currency: 'EUR',
    customer: { email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace', customer_id: null, company: null, vat_id: null },
    billing_address: {
      first_name: 'Ada', last_name: 'Lovelace', company: null, street: 'Main 1', city: 'Berlin', region: null,
      postcode: '10115', country: 'DE', telephone: '030 1234',
    },
    shipping_address: null,
    items: items.map((i) => ({
      sku: i.sku, name: i.sku, qty: i.qty, price: 10, tax: 0, discount: 0, row_total: 10 * i.qty, product_type: i.product_type || 'simple',
    })),
    service_lines: [{ type: 'shipping', code: 'SHIP', description: 'Flat rate', amount: 5, tax: 0 }],
    totals: { subtotal: 20, shipping: 5, tax: 0, discount: 0, grand_total: 25 },
    payment: { method: 'checkmo', amount: 25, currency: 'EUR' },
    shipping: { method: 'flatrate_flatrate', description: 'Flat rate' },
    metadata: { store_id: 1, magento_order_id: 7 },
  };
}

/**
 * A server on 127.0.0.1:0 answering what `answer` holds: {status, headers, body (string or JSON)} or
 * {hang: true} (never answers). `answer` may be a function of (req, res) returning one of those; with
 * {hang: true} it may keep `res` and answer later itself. Records each request (method, url, headers,
 * body text) once its body has arrived.
 */
async function startScriptedServer() {
  const requests = [];
  const sockets = new Set();
  const state = { answer: { status: 200, body: { ok: true } } };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const a = typeof state.answer === 'function' ? state.answer(req, res) : state.answer;
      if (a.hang) return;
      const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
      res.writeHead(a.status, { 'content-type': typeof a.body === 'string' ? 'text/plain' : 'application/json', ...(a.headers || {}) });
      res.end(text);
    });
  });
  let connections = 0;
  server.on('connection', (s) => { connections++; sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    sockets,
    get connections() { return connections; },
    set(answer) { state.answer = answer; },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Polls `check` until it returns a truthy value or `ms` pass. */
async function until(check, what, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

module.exports = { order, startScriptedServer, until };
