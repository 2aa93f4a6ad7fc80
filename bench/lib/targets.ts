/** The issue's targets, checked against the rows of this run (never against remembered figures). */
import type { BenchOptions } from './options';
import type { Row, Target } from './report';

const pct = (x: number): string => `${Math.round(x * 100)} %`;

/** p99 of `row` over the bare server's, round by round (rows measured in rounds keep them in details.rounds). */
function roundRatios(row: Row, bare: Row): number[] {
  const p99s = (r: Row): number[] => ((r.details?.rounds ?? []) as Array<{ p99Ms: number }>).map((x) => x.p99Ms);
  const mine = p99s(row);
  const theirs = p99s(bare);
  return mine.length === theirs.length ? mine.map((p, i) => p / Math.max(theirs[i], 1)) : [];
}

export function evaluateTargets(rows: Row[], opts: BenchOptions): Target[] {
  const targets: Target[] = [];
  const find = (workload: Row['workload'], pred: (r: Row) => boolean) => rows.find((r) => r.workload === workload && pred(r));

  const pack = find('order export', (r) => r.role === 'pack' && r.items === opts.orders);
  const raw = find('order export', (r) => r.role === 'raw client');
  if (pack && raw) {
    const ratio = pack.throughput / raw.throughput;
    targets.push({ name: 'order export ≥ 80 % of the raw client', met: ratio >= 0.8, measured: `${Math.round(pack.throughput)} vs ${Math.round(raw.throughput)} orders/s = ${pct(ratio)}`, wanted: '≥ 80 %' });
  }
  const big = find('order export', (r) => r.role === 'pack' && r.items === opts.rssOrders && opts.rssOrders !== opts.orders);
  if (pack && big && pack.peakRssBytes && big.peakRssBytes) {
    const growth = big.peakRssBytes / pack.peakRssBytes - 1;
    targets.push({
      name: `peak RSS flat from ${pack.items.toLocaleString('en-US')} to ${big.items.toLocaleString('en-US')} orders`, met: growth <= 0.2,
      measured: `${Math.round(pack.peakRssBytes / 1048576)} MB → ${Math.round(big.peakRssBytes / 1048576)} MB (${growth >= 0 ? '+' : ''}${pct(growth)})`, wanted: 'within 20 %',
    });
  }
  const hand = find('stock push', (r) => r.role === 'hand-built');
  const msi = find('stock push', (r) => r.role === 'pack' && /MSI/.test(r.variant));
  const bulk = find('stock push', (r) => r.role === 'pack' && /bulk/.test(r.variant));
  for (const [row, max, label] of [[msi, 20, 'default input limit'], [bulk, 500, 'async bulk']] as const) {
    if (!hand || !row || !hand.calls.magento || !row.calls.magento) continue;
    const ratio = row.calls.magento / hand.calls.magento;
    targets.push({
      name: `stock push HTTP calls ≤ 1/${max} of per-SKU (${label})`, met: ratio <= 1 / max,
      measured: `${row.calls.magento} vs ${hand.calls.magento} calls = 1/${(1 / ratio).toFixed(1)}`, wanted: `≤ 1/${max}`,
    });
  }
  // Every pack configuration measured (webhook-in on Node-RED's HTTP server, on a port of its own), each named.
  const bare = find('webhook ingest', (r) => r.role === 'bare server');
  for (const wPack of rows.filter((r) => r.workload === 'webhook ingest' && r.role === 'pack')) {
    const where = wPack.details?.listen === 'port' ? 'webhook-in on its own port' : "webhook-in on Node-RED's HTTP server";
    if (bare) {
      const ratio = wPack.throughput / bare.throughput;
      targets.push({ name: `webhook ingest ≥ 25 % of the bare server's req/s at ${opts.connections} connections (${where})`, met: ratio >= 0.25, measured: `${Math.round(wPack.throughput)} vs ${Math.round(bare.throughput)} req/s = ${pct(ratio)}`, wanted: '≥ 25 %' });
      if (wPack.p99Ms !== undefined && bare.p99Ms !== undefined) {
        // The rows hold each variant's median round; every round's own ratio is shown beside it.
        const byRound = roundRatios(wPack, bare);
        const rounds = byRound.length > 1 ? `; by round ${byRound.map((x) => `${x.toFixed(1)}×`).join(', ')}, met in ${byRound.filter((x) => x <= 2).length} of ${byRound.length}` : '';
        targets.push({ name: `webhook ingest p99 ≤ 2× the bare server's (${where})`, met: wPack.p99Ms <= 2 * bare.p99Ms, measured: `${wPack.p99Ms} vs ${bare.p99Ms} ms = ${(wPack.p99Ms / Math.max(bare.p99Ms, 1)).toFixed(1)}×${rounds}`, wanted: '≤ 2×' });
      }
    }
    const d = (wPack.details ?? {}) as { errors?: number; duplicatesPassed?: number };
    targets.push({ name: `webhook ingest: no errors (${where})`, met: (d.errors ?? 0) === 0, measured: `${d.errors ?? 0} errors`, wanted: '0' });
    targets.push({ name: `webhook ingest: no duplicate reaches the ERP (${where})`, met: (d.duplicatesPassed ?? 0) === 0, measured: `${d.duplicatesPassed ?? 0} duplicates passed the gate`, wanted: '0' });
  }
  return targets;
}
