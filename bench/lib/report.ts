/** One table for the whole run, and the same rows as JSON under bench/results/. */
import fs from 'fs';
import os from 'os';
import path from 'path';

/** `diagnostic`: a variant that answers a question (what would X save), outside the targets. */
export type Role = 'pack' | 'hand-built' | 'raw client' | 'bare server' | 'diagnostic';

export interface Row {
  workload: 'order export' | 'stock push' | 'price push' | 'webhook ingest';
  variant: string;
  role: Role;
  /** Orders, updates, prices or requests handled. */
  items: number;
  unit: string;
  ms: number;
  throughput: number;
  p50Ms?: number;
  p99Ms?: number;
  /** HTTP calls that reached Magento (the sandbox), the ERP, or (webhooks) the receiver. */
  calls: { magento?: number; erp?: number; received?: number };
  /** Peak RSS of the process doing the work (Node-RED, or the baseline's own process). */
  peakRssBytes?: number;
  process: string;
  /** Ratio to the same workload's ceiling (raw client / bare server) measured in this run. */
  throughputVsCeiling?: number;
  /** This row's HTTP calls to Magento per item, relative to the hand-built flow's (1/x). */
  callsVsHandBuilt?: number;
  notes?: string[];
  details?: Record<string, unknown>;
}

export interface Target {
  name: string;
  met: boolean;
  measured: string;
  wanted: string;
}

export function totalCalls(r: Row): number {
  return (r.calls.magento ?? 0) + (r.calls.erp ?? 0) + (r.calls.received ?? 0);
}

/** Fills the ratio columns: throughput against the workload's ceiling, Magento calls against the hand-built flow. */
export function addRatios(rows: Row[]): void {
  for (const r of rows) {
    const ceiling = rows.find((x) => x.workload === r.workload && (x.role === 'raw client' || x.role === 'bare server'));
    if (ceiling && ceiling.throughput > 0) r.throughputVsCeiling = r.throughput / ceiling.throughput;
    const hand = rows.find((x) => x.workload === r.workload && x.role === 'hand-built');
    if (hand && hand.calls.magento && r.calls.magento && (r.workload === 'stock push' || r.workload === 'price push')) {
      r.callsVsHandBuilt = (hand.calls.magento / hand.items) / (r.calls.magento / r.items);
    }
  }
}

/** A whole number as the table shows it: 12,345. */
export const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const mb = (b: number | undefined): string => (b === undefined ? '–' : `${Math.round(b / 1048576)} MB`);

function callsText(r: Row): string {
  const parts: string[] = [];
  if (r.calls.magento !== undefined) parts.push(`M ${int(r.calls.magento)}`);
  if (r.calls.erp !== undefined) parts.push(`ERP ${int(r.calls.erp)}`);
  if (r.calls.received !== undefined) parts.push(`in ${int(r.calls.received)}`);
  return parts.join(' + ');
}

export function formatTable(rows: Row[]): string {
  const head = ['workload', 'variant', 'items', 'throughput', 'p50 / p99', 'HTTP calls', 'peak RSS', 'vs ceiling', 'calls vs hand-built'];
  const lines = rows.map((r) => [
    r.workload,
    r.variant,
    int(r.items),
    `${int(r.throughput)} ${r.unit}`,
    r.p50Ms === undefined ? '–' : `${r.p50Ms} / ${r.p99Ms} ms`,
    callsText(r),
    `${mb(r.peakRssBytes)} (${r.process})`,
    r.throughputVsCeiling === undefined ? '–' : `${Math.round(r.throughputVsCeiling * 100)} %`,
    r.callsVsHandBuilt === undefined ? '–' : r.callsVsHandBuilt >= 1 ? `1/${r.callsVsHandBuilt.toFixed(r.callsVsHandBuilt >= 100 ? 0 : 1)}` : `${(1 / r.callsVsHandBuilt).toFixed(1)}×`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n');
}

export function formatTargets(targets: Target[]): string {
  return targets.map((t) => `${t.met ? 'MET   ' : 'MISSED'} ${t.name}: ${t.measured} (target ${t.wanted})`).join('\n');
}

export function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    node: process.version, platform: `${os.type()} ${os.release()} ${os.arch()}`, cpus: cpus.length, cpuModel: cpus[0]?.model,
    memoryGb: Math.round(os.totalmem() / 1073741824),
  };
}

export function writeResults(file: string | undefined, root: string, data: Record<string, unknown>): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = file ?? path.join(root, 'bench', 'results', `${stamp}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(data, null, 2) + '\n');
  return out;
}
