#!/usr/bin/env node
'use strict';
// Price push benchmark against the Magento sandbox: prices/s and HTTP calls per 10,000 prices,
// push-price's core (coalesced, batches of 20) vs one base-prices call per price.
//   node bench/price-push.js [--prices 10000] [--skus 2000]
const path = require('path');
const { setup, counted, table, timed, arg } = require('./stock-push');

async function main() {
  const count = arg('prices', 10000);
  const skuCount = arg('skus', 2000);
  const { PricePush } = require(path.join(__dirname, '../dist/lib/prices'));
  const { mapPool } = require(path.join(__dirname, '../dist/lib/batching'));
  const { sandbox, newClient, skus } = await setup({ seed: arg('seed', 7), skus: skuCount, prefix: 'PRICE' });
  const workload = Array.from({ length: count }, (_, j) => ({ sku: skus[j % skus.length], price: 10 + (j % 97) / 4, store_id: 0 }));
  const rows = [];
  try {
    {
      const client = newClient();
      const n = counted(client);
      const ms = await timed(() => mapPool(workload, 4, (p) => client.request({ method: 'POST', path: '/products/base-prices', body: { prices: [p] } })));
      rows.push({ name: 'baseline: one base-prices call per price', items: count, calls: n.calls, ms, baseline: true });
      client.close();
    }
    {
      const client = newClient();
      const n = counted(client);
      let bad = 0;
      const push = new PricePush(client, { windowMs: 600000 }, {
        onResult: (r) => { bad += r.counts.rejected + r.counts.failed + r.counts.invalid; },
        onTicketSettled: () => undefined,
      });
      const ms = await timed(async () => {
        for (let i = 0; i < workload.length; i += 1000) await push.accept(`m${i}`, workload.slice(i, i + 1000));
        await push.flush();
      });
      if (bad) console.error(`push-price: ${bad} items not applied`);
      rows.push({ name: 'push-price (coalesced, batches of 20)', items: count, calls: n.calls, ms });
      await push.close();
      client.close();
    }
    {
      // Every price distinct (no coalescing possible): batching alone.
      const distinct = skus.map((sku, i) => ({ sku, price: 20 + i / 100, store_id: 0 }));
      const client = newClient();
      const n = counted(client);
      const push = new PricePush(client, { windowMs: 600000 }, { onResult: () => undefined, onTicketSettled: () => undefined });
      const ms = await timed(async () => {
        await push.accept('all', distinct);
        await push.flush();
      });
      rows.push({ name: `push-price, ${distinct.length} distinct prices`, items: distinct.length, calls: n.calls, ms });
      await push.close();
      client.close();
    }
  } finally {
    await sandbox.close();
  }
  console.log(`\nPrice push: ${count} base prices for ${skuCount} SKUs, sandbox on loopback, client concurrency 4, Node ${process.version}\n`);
  table(rows);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
