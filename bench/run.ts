/**
 * `npm run bench`: every workload against the Magento sandbox and the demo ERP on loopback, this pack's
 * nodes in a real Node-RED process beside the baselines a user would otherwise build, measured in the same
 * run. Prints one table and the targets, writes the rows as JSON to bench/results/<timestamp>.json.
 *
 *   npm run bench -- [--orders 10000] [--rss-orders 100000] [--stock 50000] [--skus 10000] [--prices 20000]
 *                    [--webhooks 20000] [--connections 200] [--rounds 3] [--pageSize 100] [--chunk 1000] [--seed 7]
 *                    [--only orders,stock,prices,webhooks] [--variants raw,pack,hand] [--node-red-heap 256]
 *                    [--v8-pool-size N] [--out file.json] [--smoke]
 */
import { parseOptions, type BenchOptions } from './lib/options';
import { addRatios, formatTable, formatTargets, machine, writeResults, type Row } from './lib/report';
import { ROOT } from './lib/stack';
import { evaluateTargets } from './lib/targets';
import { orderExport } from './workloads/orders';
import { pricePush, stockPush } from './workloads/push';
import { webhookIngest } from './workloads/webhooks';

const log = (s: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
};

async function main(): Promise<void> {
  const opts: BenchOptions = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const rows: Row[] = [];
  const failures: string[] = [];
  const steps: Array<[string, () => Promise<Row[]>]> = [
    ['orders', () => orderExport(opts, log)],
    ['stock', () => stockPush(opts, log)],
    ['prices', () => pricePush(opts, log)],
    ['webhooks', () => webhookIngest(opts, log)],
  ];
  for (const [name, run] of steps) {
    if (!opts.only.has(name)) continue;
    try {
      rows.push(...(await run()));
    } catch (err) {
      // One broken workload must not hide the others' figures; the exit code still says it failed.
      failures.push(`${name}: ${(err as Error).stack ?? String(err)}`);
      log(`${name} FAILED: ${(err as Error).message}`);
    }
  }
  addRatios(rows);
  const targets = evaluateTargets(rows, opts);
  const sizes = `orders ${opts.orders}${opts.rssOrders ? ` (+${opts.rssOrders} for RSS)` : ''}, stock ${opts.stock} for ${opts.skus} SKUs, prices ${opts.prices}, webhooks ${opts.webhooks} at ${opts.connections} connections${opts.rounds > 1 ? ` (median of ${opts.rounds} rounds)` : ''}`;
  const m = machine();
  console.log(`\nmagento-erp benchmarks (${opts.smoke ? 'smoke, ' : ''}seed ${opts.seed}; ${sizes})`);
  console.log(`${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node}, ${m.platform}; Node-RED and each baseline in its own process, sandbox + ERP in the bench process, all on 127.0.0.1; Node-RED heap ${opts.nodeRedHeapMb > 0 ? `--max-old-space-size=${opts.nodeRedHeapMb}` : "V8's default"}, every measured process ${opts.v8PoolSize > 0 ? `--v8-pool-size=${opts.v8PoolSize}` : "with Node's 4 V8 worker threads"}\n`);
  console.log(formatTable(rows));
  const notes = rows.flatMap((r) => (r.notes ?? []).map((n) => `${r.workload} / ${r.variant}: ${n}`));
  if (notes.length) console.log(`\nNotes:\n${notes.map((n) => `- ${n}`).join('\n')}`);
  if (targets.length) console.log(`\nTargets:\n${formatTargets(targets)}`);
  const file = writeResults(opts.out, ROOT, {
    startedAt: new Date(started).toISOString(), seconds: Math.round((Date.now() - started) / 1000), machine: m,
    options: { ...opts, only: [...opts.only], variants: [...opts.variants] }, rows, targets, failures,
  });
  console.log(`\nJSON: ${file} (${Math.round((Date.now() - started) / 1000)} s)`);
  if (failures.length) {
    console.error(`\n${failures.length} workload(s) failed:\n${failures.join('\n\n')}`);
    process.exitCode = 1;
  }
  // In smoke mode (CI) a broken invariant fails the run; a throughput target missed on a tiny size does not.
  const broken = rows.filter((r) => r.details?.invariantBroken);
  if (broken.length) {
    console.error(`\ninvariants broken: ${broken.map((r) => `${r.workload} / ${r.variant}: ${r.details!.invariantBroken}`).join('; ')}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
