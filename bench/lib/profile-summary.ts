/**
 * Where a benchmark's CPU went, from a profile written with BENCH_CPU_PROF (and BENCH_HEAP_PROF):
 *
 *   node dist/bench/lib/profile-summary.js <file.cpuprofile> [CPU ms per item] [--top N]
 *   node dist/bench/lib/profile-summary.js <file.heapprofile>
 *
 * Busy time (idle left out) is split by owner: a sample belongs to the first group below with a frame on
 * its stack, so a node's own code, the libraries it calls and the callbacks they run count together (the
 * core http request node with got, read-orders with lib/orders, ...). With the CPU ms per item the bench
 * printed, each share is also given in µs per item. Then the functions with the most self time.
 */
import fs from 'fs';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface CpuNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: CpuNode[]; samples: number[]; timeDeltas: number[] }
interface HeapNode { callFrame: CallFrame; selfSize: number; children: HeapNode[] }

export const GROUPS: Array<[string, RegExp]> = [
  ['GC', /^\(garbage collector\)$/],
  // The bench process: the demo ERP validates with lib/schemas, which counts as the ERP's.
  ['raw loop (baseline)', /\/bench\/baselines\//],
  ['Magento sandbox', /\/sandbox\/magento\//],
  ['demo ERP', /\/sandbox\/erp\//],
  ['core http request node + got', /21-httprequest|node_modules\/(got|tough-cookie|@szmarczak|p-cancelable|@sindresorhus|cacheable-|hpagent|form-data|responselike|decompress-response|lowercase-keys|mimic-response|defer-to-connect|http2-wrapper)\//],
  ['Magento client (axios, page JSON)', /node_modules\/axios\/|\/lib\/magento\//],
  ['read-orders + lib/orders', /\/nodes\/read-orders\/|\/lib\/orders\//],
  ['idempotency gate + stores (sqlite3)', /\/nodes\/idempotency-gate\/|\/lib\/stores\/|node_modules\/sqlite3\//],
  ['map-order + mapping + schemas', /\/nodes\/map-order\/|\/lib\/mapping\/|\/lib\/schemas\.js|node_modules\/ajv\//],
  ['audit log', /\/lib\/audit\//],
  ['other pack code', /\/dist\/(lib|nodes)\//],
  ['function nodes', /10-function\.js|^Function node/],
  ['split node', /17-split\.js/],
  ['Node-RED runtime (routing, hooks, context)', /@node-red\/(runtime|util)\//],
  ['node http/net/streams (not attributed above)', /^node:/],
];

function groupOf(stack: CallFrame[]): string {
  for (const [name, re] of GROUPS) if (stack.some((f) => re.test(f.url || f.functionName))) return name;
  const leaf = stack[0];
  return `other: ${leaf.url ? leaf.url.split('/').slice(-2).join('/') : leaf.functionName}`;
}

const where = (f: CallFrame): string => `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;

function table(rows: Map<string, number>, total: number, top: number, unit: (v: number) => string): string[] {
  return [...rows].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)} %${unit(v)}  ${k}`);
}

export function summariseCpu(profile: CpuProfile, msPerItem?: number, top = 15): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0)));
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, t] of self) {
    const leaf = byId.get(id)!.callFrame;
    if (leaf.functionName === '(idle)') {
      idle += t;
      continue;
    }
    busy += t;
    const stack: CallFrame[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) stack.push(byId.get(cur)!.callFrame);
    const g = groupOf(stack);
    groups.set(g, (groups.get(g) ?? 0) + t);
    const f = leaf.url ? where(leaf) : leaf.functionName;
    functions.set(f, (functions.get(f) ?? 0) + t);
  }
  const perItem = (v: number): string => (msPerItem ? ` ${((1000 * msPerItem * v) / busy).toFixed(0).padStart(5)} µs/item` : '');
  return [
    `busy ${(busy / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms${msPerItem ? `; ${msPerItem} ms CPU per item` : ''}`,
    '-- busy time by owner',
    ...table(groups, busy, 30, perItem),
    '-- self time by function',
    ...table(functions, busy, top, perItem),
  ];
}

export function summariseHeap(head: HeapNode, top = 15): string[] {
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode, stack: CallFrame[]): void => {
    const here = [n.callFrame, ...stack];
    if (n.selfSize) {
      total += n.selfSize;
      const g = groupOf(here);
      groups.set(g, (groups.get(g) ?? 0) + n.selfSize);
      const f = where(n.callFrame);
      functions.set(f, (functions.get(f) ?? 0) + n.selfSize);
    }
    for (const c of n.children ?? []) walk(c, here);
  };
  walk(head, []);
  const mb = (v: number): string => ` ${(v / 1048576).toFixed(0).padStart(6)} MB`;
  return [`sampled allocations ${(total / 1048576).toFixed(0)} MB`, '-- by owner', ...table(groups, total, 30, mb), '-- by function', ...table(functions, total, top, mb)];
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 15;
  const [file, perItem] = args;
  if (!file) {
    console.error('usage: node dist/bench/lib/profile-summary.js <file.cpuprofile|file.heapprofile> [CPU ms per item] [--top N]');
    process.exit(2);
  }
  const data = JSON.parse(fs.readFileSync(file, 'utf8'));
  const lines = data.head ? summariseHeap(data.head as HeapNode, top) : summariseCpu(data as CpuProfile, perItem ? Number(perItem) : undefined, top);
  console.log(lines.join('\n'));
}
