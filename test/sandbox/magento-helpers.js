'use strict';
// Small HTTP helpers for the Magento sandbox tests (no client library: we test the server as Magento would be seen).
const http = require('http');

function request(base, method, path, { headers = {}, body, raw } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(base + path);
    const text = raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(u, {
      method,
      agent: false,
      headers: { ...(text !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) } : {}), ...headers },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const t = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(t); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text: t, json });
      });
    });
    req.on('error', reject);
    if (text !== undefined) req.write(text);
    req.end();
  });
}

/** searchCriteria query string from a compact description, encoded as a client would send it. */
function sc({ groups = [], sort = [], pageSize, currentPage } = {}) {
  const q = new URLSearchParams();
  groups.forEach((g, gi) => g.forEach((f, fi) => {
    const b = `searchCriteria[filter_groups][${gi}][filters][${fi}]`;
    q.append(`${b}[field]`, f[0]);
    q.append(`${b}[value]`, f[1] === undefined ? '' : String(f[1]));
    q.append(`${b}[condition_type]`, f[2] || 'eq');
  }));
  sort.forEach((s, i) => { q.append(`searchCriteria[sortOrders][${i}][field]`, s[0]); q.append(`searchCriteria[sortOrders][${i}][direction]`, s[1] || 'ASC'); });
  if (pageSize !== undefined) q.append('searchCriteria[pageSize]', String(pageSize));
  if (currentPage !== undefined) q.append('searchCriteria[currentPage]', String(currentPage));
  const s = q.toString();
  return s ? s.replace(/\+/g, '%20') : 'searchCriteria=';
}

/** Resolves when `test()` is true, checking after each turn of the event loop (no fixed sleeps). */
async function until(test, what = 'condition', maxTurns = 200000) {
  for (let i = 0; i < maxTurns; i++) {
    if (await test()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`gave up waiting for ${what}`);
}

module.exports = { request, sc, until };
