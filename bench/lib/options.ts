import os from 'os';

/**
 * Command-line sizes of `npm run bench`. Every workload is drawn from one seed, so two runs with the same
 * options send the same orders, stock levels, prices and webhook events.
 */
export interface BenchOptions {
  orders: number;
  /** Orders of the second order-export run that checks peak RSS stays flat (0: skip). */
  rssOrders: number;
  stock: number;
  skus: number;
  prices: number;
  webhooks: number;
  connections: number;
  /**
   * Webhook ingest runs every variant this many times, interleaved (bare server, pack, pack on its own
   * port, hand-built flow in each round), and shows each variant's median round: one run's p99 on a shared
   * machine moves by half or more from one run to the next (the bare server's 21–39 ms over ten runs).
   */
  rounds: number;
  pageSize: number;
  /** Updates per HTTP post into Node-RED for the push workloads (an ERP sends batches, not single rows). */
  chunk: number;
  seed: number;
  /**
   * Which order-export variants to run (raw, pack, hand by default): a profile of one at a time.
   */
  variants: Set<string>;
  /** Which workloads to run (orders, stock, prices, webhooks). */
  only: Set<string>;
  smoke: boolean;
  out: string | undefined;
  /**
   * V8 old-generation size of every Node-RED process, in MB (`--max-old-space-size`). 1024 by default: what
   * V8 itself gives a process on a machine with 4 GB of memory (a quarter of it), so the figures do not
   * depend on the memory of the machine running the bench. 0 leaves V8's own sizing, which on a large
   * machine (4 GB of heap from 16 GB up) lets the heap grow up to four times what is live between full
   * collections, more the longer a run lasts.
   */
  nodeRedHeapMb: number;
  /**
   * V8's worker threads (its GC helpers) in every process the bench measures, Node-RED and the baselines alike
   * (`--v8-pool-size`). The CPU count less one by default: Node starts four whatever the machine, and on two
   * cores four GC helpers crowd out the event loop and SQLite's threads (webhook p99 about a tenth lower with one,
   * eighth session). 0 leaves Node's default.
   */
  v8PoolSize: number;
}

/** The Node options every measured process gets from `opts` besides Node-RED's heap size. */
export function v8Flags(opts: Pick<BenchOptions, 'v8PoolSize'>): string[] {
  return opts.v8PoolSize > 0 ? [`--v8-pool-size=${opts.v8PoolSize}`] : [];
}

export const WORKLOADS = ['orders', 'stock', 'prices', 'webhooks'] as const;
export const ORDER_VARIANTS = ['raw', 'pack', 'hand'] as const;
const DEFAULT_ORDER_VARIANTS = ['raw', 'pack', 'hand'];

const DEFAULTS = {
  'node-red-heap': 1024, 'v8-pool-size': Math.max(1, os.availableParallelism() - 1), orders: 10_000, stock: 50_000, skus: 10_000, prices: 20_000, webhooks: 20_000, connections: 200, rounds: 3, pageSize: 100, chunk: 1_000, seed: 7,
};

/** Tiny sizes for CI: every path runs, in well under two minutes. */
const SMOKE = { orders: 300, rssOrders: 0, stock: 2_000, skus: 400, prices: 1_000, webhooks: 500, connections: 50, rounds: 1, chunk: 250 };

export function parseOptions(argv: string[]): BenchOptions {
  const given = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}" (options are --name value)`);
    const eq = a.indexOf('=');
    if (eq > 0) given.set(a.slice(2, eq), a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) given.set(a.slice(2), argv[++i]);
    else flags.add(a.slice(2));
  }
  const smoke = flags.has('smoke');
  const base: Record<string, number> = { ...DEFAULTS, ...(smoke ? SMOKE : {}) };
  const known = new Set([...Object.keys(DEFAULTS), 'rss-orders', 'only', 'variants', 'out']);
  for (const k of given.keys()) if (!known.has(k)) throw new Error(`--${k}: unknown option (known: ${[...known].map((x) => `--${x}`).join(', ')}, --smoke)`);
  for (const f of flags) if (f !== 'smoke') throw new Error(`--${f}: needs a value`);
  const num = (name: string, fallback: number, min: number): number => {
    const raw = given.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: must be a whole number of at least ${min} (got "${raw}")`);
    return n;
  };
  const orders = num('orders', base.orders, 1);
  const only = new Set((given.get('only') ?? WORKLOADS.join(',')).split(',').map((s) => s.trim()).filter(Boolean));
  for (const w of only) if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`--only: "${w}" is not one of ${WORKLOADS.join(', ')}`);
  const variants = new Set((given.get('variants') ?? DEFAULT_ORDER_VARIANTS.join(',')).split(',').map((s) => s.trim()).filter(Boolean));
  for (const v of variants) if (!(ORDER_VARIANTS as readonly string[]).includes(v)) throw new Error(`--variants: "${v}" is not one of ${ORDER_VARIANTS.join(', ')}`);
  const pageSize = num('pageSize', base.pageSize, 1);
  if (pageSize > 300) throw new Error('--pageSize: Magento refuses a searchCriteria pageSize above 300');
  return {
    orders,
    // Ten times the main size (100,000 at the default) unless told: what "flat" is checked against.
    rssOrders: num('rss-orders', smoke ? 0 : orders * 10, 0),
    stock: num('stock', base.stock, 1),
    skus: num('skus', base.skus, 1),
    prices: num('prices', base.prices, 1),
    webhooks: num('webhooks', base.webhooks, 10),
    connections: num('connections', base.connections, 1),
    rounds: num('rounds', base.rounds, 1),
    pageSize,
    chunk: num('chunk', base.chunk, 1),
    seed: num('seed', base.seed, 0),
    only,
    variants,
    smoke,
    out: given.get('out'),
    nodeRedHeapMb: num('node-red-heap', base['node-red-heap'], 0),
    v8PoolSize: num('v8-pool-size', base['v8-pool-size'], 0),
  };
}
