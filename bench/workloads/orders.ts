/**
 * Order export: N orders from the Magento sandbox into the demo ERP. The pack's flow (read-orders →
 * idempotency-gate (SQLite) → map-order → http request → commit) and the hand-built flow each run in a
 * fresh Node-RED process; the raw client loop in a process of its own. Done when the ERP holds N orders.
 */
import path from 'path';
import { v8Flags, type BenchOptions } from '../lib/options';
import { forkChild } from '../lib/child-process';
import { CpuProfiler, profileDir } from '../lib/cpu-profile';
import { CpuMeter, cpuText, now, waitUntil, type CpuShare } from '../lib/measure';
import type { Row } from '../lib/report';
import { loadFlow, problemLines, startBackends, startNodeRed, type Backends, type BenchNodeRed } from '../lib/stack';

interface PackStats { committed?: number; erpRefused?: number; invalid?: number; repeats?: number; gateErrors?: number; failures?: number }
interface HandStats { created?: number; refused?: number }

/** How many ERP posts were out at once (keep-alive connections): what a variant's concurrency really was. */
function erpConcurrency(b: Backends): string {
  return `ERP connections: at most ${b.erpCalls.maxSockets} open at once, ${b.erpCalls.newSockets} opened during the run`;
}

function envFor(b: Backends, opts: BenchOptions): Record<string, string> {
  return { MAGENTO_URL: b.magento.url, MAGENTO_TOKEN: b.token, ERP_URL: b.erp.url, BENCH_PAGE_SIZE: String(opts.pageSize) };
}

async function measureInNodeRed(b: Backends, nodeRed: BenchNodeRed, label: string, start: string, expected: number, done: () => Promise<boolean>): Promise<{ ms: number; cpu: CpuShare; erp: string }> {
  b.magentoCalls.reset();
  b.erpCalls.reset();
  const profiler = new CpuProfiler();
  const dir = profileDir();
  if (dir) profiler.start();
  nodeRed.profileStart();
  const meter = new CpuMeter(nodeRed.pid);
  const t0 = now();
  await nodeRed.inject(start);
  await waitUntil(`${expected} orders in the ERP`, async () => ((await done()) ? true : undefined), {
    progress: () => b.erp.state.orders.size + b.erpCalls.total,
    stallMs: 60_000,
    explain: async () => `ERP orders ${b.erp.state.orders.size}, ERP calls ${b.erpCalls.total}, Magento calls ${b.magentoCalls.total}, flow counters ${JSON.stringify(await nodeRed.stats().catch(() => ({})))}\n${problemLines(nodeRed).slice(-20).join('\n')}`,
  });
  const ms = now() - t0;
  const cpu = meter.stop(expected);
  const erp = erpConcurrency(b);
  await nodeRed.profileStop();
  if (dir) profiler.stop(path.resolve(dir, `${label}-bench.cpuprofile`));
  return { ms, cpu, erp };
}

/** `overrides`: node changes by id, for diagnostic runs (e.g. the gate in memory) outside the table. */
export async function packOrderExport(opts: BenchOptions, orders: number, label: string, overrides: Record<string, Record<string, unknown>> = {}, role: Row['role'] = 'pack'): Promise<Row> {
  const b = await startBackends({ orders, seed: opts.seed });
  let nodeRed: BenchNodeRed | undefined;
  try {
    const profLabel = `orders-${role}-${orders}`;
    nodeRed = await startNodeRed({ heapMb: opts.nodeRedHeapMb, nodeFlags: v8Flags(opts), flow: 'orders-pack.json', label: profLabel, env: envFor(b, opts), overrides: { ...overrides, 'orders-read': { pageSize: String(opts.pageSize), ...overrides['orders-read'] } } });
    const nr = nodeRed;
    let stats: PackStats = {};
    // Every order ends committed (in the ERP), refused by the ERP, or at map-order's invalid output.
    const { ms, cpu, erp } = await measureInNodeRed(b, nr, profLabel, 'orders-start', orders, async () => {
      stats = await nr.stats<PackStats>();
      return (stats.committed ?? 0) + (stats.erpRefused ?? 0) + (stats.invalid ?? 0) >= orders;
    });
    const problems = problemLines(nr);
    const notes: string[] = [cpuText(cpu, 'Node-RED', 'order'), erp];
    if (stats.invalid) notes.push(`${stats.invalid} orders stopped by map-order's validation (invalid output), not sent`);
    if (b.erp.state.orders.size !== (stats.committed ?? 0)) notes.push(`the ERP holds ${b.erp.state.orders.size} orders, ${stats.committed ?? 0} committed`);
    if (stats.erpRefused || stats.failures || stats.gateErrors || stats.repeats) notes.push(`counters: ${JSON.stringify(stats)}`);
    if (problems.length) notes.push(`Node-RED warned: ${problems.slice(0, 3).join(' | ')}`);
    return {
      workload: 'order export', variant: label, role, items: orders, unit: 'orders/s', ms, throughput: orders / (ms / 1000),
      calls: { magento: b.magentoCalls.total, erp: b.erpCalls.total }, peakRssBytes: nr.peakRss(), process: 'Node-RED',
      notes, details: { stats, cpu, erpOrders: b.erp.state.orders.size, orderReads: b.magentoCalls.matching('/V1/orders') },
    };
  } finally {
    await nodeRed?.stop();
    await b.close();
  }
}

async function handOrderExport(opts: BenchOptions): Promise<Row> {
  const b = await startBackends({ orders: opts.orders, seed: opts.seed });
  let nodeRed: BenchNodeRed | undefined;
  try {
    nodeRed = await startNodeRed({ heapMb: opts.nodeRedHeapMb, nodeFlags: v8Flags(opts), flow: 'orders-hand.json', env: envFor(b, opts) });
    const nr = nodeRed;
    let stats: HandStats = {};
    const { ms, cpu, erp } = await measureInNodeRed(b, nr, 'orders-hand', 'hand-start', opts.orders, async () => {
      if (b.erpCalls.total < opts.orders) return false;
      stats = await nr.stats<HandStats>();
      return (stats.created ?? 0) + (stats.refused ?? 0) >= opts.orders;
    });
    const notes: string[] = [cpuText(cpu, 'Node-RED', 'order'), erp];
    if (stats.refused) notes.push(`the ERP refused ${stats.refused} orders`);
    return {
      workload: 'order export', variant: 'hand-built flow (http request + split + function)', role: 'hand-built', items: opts.orders, unit: 'orders/s',
      ms, throughput: opts.orders / (ms / 1000), calls: { magento: b.magentoCalls.total, erp: b.erpCalls.total }, peakRssBytes: nr.peakRss(),
      process: 'Node-RED', notes, details: { stats, cpu, erpOrders: b.erp.state.orders.size },
    };
  } finally {
    await nodeRed?.stop();
    await b.close();
  }
}

async function rawOrderExport(opts: BenchOptions): Promise<Row> {
  const b = await startBackends({ orders: opts.orders, seed: opts.seed });
  try {
    const mapping = String(loadFlow('orders-hand.json').find((n) => n.id === 'hand-map')?.func ?? '');
    b.magentoCalls.reset();
    b.erpCalls.reset();
    const meter = new CpuMeter();
    const dir = profileDir();
    const profiler = new CpuProfiler();
    if (dir) profiler.start();
    const child = forkChild({ kind: 'raw-orders', magentoUrl: b.magento.url, token: b.token, erpUrl: b.erp.url, orders: opts.orders, pageSize: opts.pageSize, mapping }, v8Flags(opts));
    const r = await child.result;
    const cpu = meter.stop(opts.orders, r.cpuMs);
    const erp = erpConcurrency(b);
    if (dir) profiler.stop(path.resolve(dir, 'orders-raw-bench.cpuprofile'));
    const notes: string[] = [cpuText(cpu, 'raw loop', 'order'), erp];
    if (r.failed) notes.push(`the ERP refused ${r.failed} orders`);
    return {
      workload: 'order export', variant: 'raw client loop (same client, no gate/validation/audit)', role: 'raw client', items: opts.orders, unit: 'orders/s',
      ms: r.ms!, throughput: opts.orders / (r.ms! / 1000), calls: { magento: b.magentoCalls.total, erp: b.erpCalls.total }, peakRssBytes: r.maxRss,
      process: 'own process', notes, details: { ok: r.ok, failed: r.failed, cpu, erpOrders: b.erp.state.orders.size },
    };
  } finally {
    await b.close();
  }
}

export async function orderExport(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  if (opts.variants.has('raw')) {
    log(`order export: raw client, ${opts.orders} orders`);
    rows.push(await rawOrderExport(opts));
  }
  if (opts.variants.has('pack')) {
    log(`order export: pack flow, ${opts.orders} orders`);
    rows.push(await packOrderExport(opts, opts.orders, 'pack: read-orders → gate → map-order → ERP → commit'));
  }
  if (opts.variants.has('hand')) {
    log(`order export: hand-built flow, ${opts.orders} orders`);
    rows.push(await handOrderExport(opts));
  }
  if (opts.rssOrders > 0 && opts.variants.has('pack')) {
    log(`order export: pack flow, ${opts.rssOrders} orders (peak RSS check)`);
    rows.push(await packOrderExport(opts, opts.rssOrders, `pack, ${opts.rssOrders.toLocaleString('en-US')} orders (RSS check)`));
  }
  return rows;
}
