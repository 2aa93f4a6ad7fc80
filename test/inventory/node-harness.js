'use strict';
// Shared set-up for the push-inventory / push-price node tests: the Magento sandbox on 127.0.0.1:0,
// a store-config node pointing at it, and helpers to collect what a push node sends and reports.
const path = require('path');
const fs = require('fs');
const helper = require('node-red-node-test-helper');

helper.init(require.resolve('node-red'));

const SANDBOX = path.join(__dirname, '../../dist/sandbox/magento/index.js');

async function startSandbox(options = {}) {
  const { startMagentoSandbox } = require(SANDBOX);
  return startMagentoSandbox({ port: 0, host: '127.0.0.1', seed: 7, ...options });
}

/** A store-config node (and its credentials) for the sandbox, authenticated the simplest way it offers. */
function storeConfigNode(sandbox, extra = {}) {
  const c = sandbox.credentials || {};
  const token = c.bearerToken || c.token || (c.bearer && c.bearer.token);
  const node = {
    id: 'store', type: 'magento-store-config', name: 'sandbox', baseUrl: sandbox.url, storeCode: 'default',
    timeout: '10000', maxConcurrency: '4', requestsPerSecond: '0', rejectUnauthorized: true,
    maxItemsPerRequest: '20', maxPageSize: '300', maxBulkItems: '5000', ...extra,
  };
  let credentials;
  if (token) {
    node.authType = 'bearer';
    credentials = { token };
  } else {
    const admin = c.admin || c;
    node.authType = 'admin';
    credentials = { username: admin.username || admin.adminUser, password: admin.password || admin.adminPassword };
  }
  return { node, credentials };
}

/** Collects messages arriving at a helper node, and resolves when `predicate(all)` holds. */
function collector(node) {
  const messages = [];
  let waiters = [];
  node.on('input', (msg) => {
    messages.push(msg);
    waiters = waiters.filter((w) => {
      if (w.predicate(messages)) { w.resolve(messages); return false; }
      return true;
    });
  });
  return {
    messages,
    until(predicate, what = 'messages') {
      if (predicate(messages)) return Promise.resolve(messages);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${messages.length}`)), 20000);
        waiters.push({ predicate, resolve: (m) => { clearTimeout(timer); resolve(m); } });
      });
    },
  };
}

/** Requests the sandbox recorded, as `METHOD /path` (query removed), optionally filtered. */
function recorded(sandbox, filter = () => true) {
  const list = typeof sandbox.requests === 'function' ? sandbox.requests() : [];
  return list
    .map((r) => ({ method: r.method, path: String(r.path || r.url || '').split('?')[0], status: r.status, raw: r }))
    .filter(filter);
}

function sandboxAvailable() {
  return fs.existsSync(SANDBOX);
}

module.exports = { helper, startSandbox, storeConfigNode, collector, recorded, sandboxAvailable };
