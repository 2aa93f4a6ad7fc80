#!/usr/bin/env node
'use strict';
// Stock push benchmark against the Magento sandbox on loopback: updates/s and HTTP calls per 10,000 updates,
// push-inventory's core (MSI batched, async bulk, legacy per SKU) vs the hand-built way (one call per update).
//   node bench/stock-push.js [--updates 10000] [--skus 2000] [--seed 7]
// Build first (npm run build). Prints a table; not part of npm test.
const { performance } = require('perf_hooks');
const path = require('path');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function setup({ seed = 7, skus = 2000, prefix = 'BENCH' } = {}) {
  const { startMagentoSandbox } = require(path.join(__dirname, '../dist/sandbox/magento/index.js'));
  const { createMagentoClient } = require(path.join(__dirname, '../dist/lib/magento/client.js'));
  const sandbox = await startMagentoSandbox({ port: 0, host: '127.0.0.1', seed });
  const c = sandbox.credentials || {};
  const token = c.bearerToken || c.token || (c.bearer && c.bearer.token);
  const auth = token ? { type: 'bearer', token } : { type: 'admin', username: (c.admin || c).username, password: (c.admin || c).password };
  const newClient = () => createMagentoClient({
    name: 'bench', baseUrl: sandbox.url, storeCode: 'default', auth, timeoutMs: 30000, maxConcurrency: 4,
    requestsPerSecond: 0, rejectUnauthorized: true, limits: { maxItemsPerRequest: 20, maxPageSize: 300, maxBulkItems: 5000 },
  });
  const names = Array.from({ length: skus }, (_, k) => `${prefix}-${String(k).padStart(5, '0')}`);
  const client = newClient();
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < names.length) {
      const sku = names[next++];
      await client.request({ method: 'POST', path: '/products', body: { product: { sku, name: sku, price: 10, status: 1, type_id: 'simple', attribute_set_id: 4, visibility: 4 } } });
    }
  }));
  client.close();
  return { sandbox, newClient, skus: names };
}

/** Counts every HTTP call a client makes. */
function counted(client) {
  const counter = { calls: 0 };
  client.onCall(() => { counter.calls++; });
  return counter;
}

function table(rows) {
  const head = ['workload', 'items', 'HTTP calls', 'calls / 10k items', 'items/s', 'calls per item vs baseline'];
  const base = rows.find((r) => r.baseline);
  const lines = rows.map((r) => [
    r.name, String(r.items), String(r.calls), (r.calls / r.items * 10000).toFixed(0),
    (r.items / (r.ms / 1000)).toFixed(0), base ? (r.baseline ? '1' : `1/${((base.calls / base.items) / (r.calls / r.items)).toFixed(1)}`) : '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(fmt(head));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const l of lines) console.log(fmt(l));
}

async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main() {
  const updates = arg('updates', 10000);
  const skuCount = arg('skus', 2000);
  const { InventoryPush } = require(path.join(__dirname, '../dist/lib/inventory'));
  const { mapPool } = require(path.join(__dirname, '../dist/lib/batching'));
  const { sandbox, newClient, skus } = await setup({ seed: arg('seed', 7), skus: skuCount });
  const workload = Array.from({ length: updates }, (_, j) => ({ sku: skus[j % skus.length], qty: j % 500 }));
  const rows = [];
  try {
    {
      const client = newClient();
      const n = counted(client);
      const ms = await timed(() => mapPool(workload, 4, (u) => client.request({
        method: 'POST', path: '/inventory/source-items', body: { sourceItems: [{ sku: u.sku, source_code: 'default', quantity: u.qty, status: u.qty > 0 ? 1 : 0 }] },
      })));
      rows.push({ name: 'baseline: one source-items call per update', items: updates, calls: n.calls, ms, baseline: true });
      client.close();
    }
    for (const [name, options] of [
      ['push-inventory MSI (coalesced, batches of 20)', { mode: 'msi' }],
      ['push-inventory async bulk', { mode: 'bulk', bulkPollMs: 50, bulkMaxPollMs: 400 }],
      ['push-inventory legacy stockItems (per SKU)', { mode: 'legacy' }],
    ]) {
      const client = newClient();
      const n = counted(client);
      let bad = 0;
      const push = new InventoryPush(client, { windowMs: 600000, ...options }, {
        onResult: (r) => { bad += r.counts.rejected + r.counts.failed + r.counts.invalid; },
        onTicketSettled: () => undefined,
      });
      const ms = await timed(async () => {
        for (let i = 0; i < workload.length; i += 1000) await push.accept(`m${i}`, workload.slice(i, i + 1000));
        await push.flush();
      });
      if (bad) console.error(`${name}: ${bad} items not applied`);
      rows.push({ name, items: updates, calls: n.calls, ms });
      await push.close();
      client.close();
    }
    {
      // One update per SKU: nothing to coalesce, batching alone.
      const client = newClient();
      const n = counted(client);
      const push = new InventoryPush(client, { windowMs: 600000 }, { onResult: () => undefined, onTicketSettled: () => undefined });
      const distinct = skus.map((sku, i) => ({ sku, qty: i % 300 }));
      const ms = await timed(async () => {
        await push.accept('all', distinct);
        await push.flush();
      });
      rows.push({ name: `push-inventory MSI, ${distinct.length} distinct SKUs (no coalescing)`, items: distinct.length, calls: n.calls, ms });
      await push.close();
      client.close();
    }
  } finally {
    await sandbox.close();
  }
  console.log(`\nStock push: ${updates} updates for ${skuCount} SKUs, sandbox on loopback, client concurrency 4, Node ${process.version}\n`);
  table(rows);
}

module.exports = { setup, counted, table, timed, arg };

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
