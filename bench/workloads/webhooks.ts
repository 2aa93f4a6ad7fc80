/**
 * Webhook ingest: signed order events, 20 % of them redelivered (same body, same idempotency key, as
 * Magento's module retries), fired by autocannon at a fixed concurrency on loopback at webhook-in →
 * idempotency-gate (SQLite) — webhook-in as a route on Node-RED's HTTP server, and on a port of its own —
 * at the hand-built http in + function, and at a bare Node server that only checks the HMAC (the ceiling). Each receiver runs in its own process; the same request list for all.
 * `--rounds` times over (3 by default), the variants in turn in every round; each row shows its median round.
 */
import type { EventEmitter } from 'events';
import net from 'net';
import { forkChild } from '../lib/child-process';
import { CpuMeter, cpuText, median, waitUntil, type CpuShare } from '../lib/measure';
import { v8Flags, type BenchOptions } from '../lib/options';
import { int, type Row } from '../lib/report';
import { problemLines, startNodeRed, type BenchNodeRed } from '../lib/stack';
import { Rng } from '../../sandbox/magento/prng';
import { signWebhook, startMagentoSandbox, webhookBody } from '../../sandbox/magento';

// autocannon ships no types; the bench uses its callback API (which returns the run's event emitter).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>, done: (err: Error | null, result: AutocannonResult) => void) => EventEmitter;

interface AutocannonResult {
  requests: { average: number; total: number; sent: number };
  latency: { p50: number; p99: number; average: number; max: number };
  duration: number;
  start: Date;
  finish: Date;
  non2xx: number;
  errors: number;
  timeouts: number;
  '2xx': number;
}

interface SignedRequest { body: string; headers: Record<string, string> }

const DUPLICATE_SHARE = 0.2;

/** A loopback port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * `count` requests: distinct `order.placed` events for sandbox orders, and 20 % redeliveries, each placed a
 * little after its original (a retry arrives later, sometimes while the first is still being handled).
 */
async function signedRequests(count: number, seed: number, secret: string, prefix: string, firstOrder = 1): Promise<{ list: SignedRequest[]; distinct: number }> {
  const distinct = count - Math.floor(count * DUPLICATE_SHARE);
  const sandbox = await startMagentoSandbox({ orders: firstOrder + distinct - 1, seed, port: 0 });
  const timestamp = Math.floor(Date.now() / 1000);
  const originals: SignedRequest[] = [];
  try {
    for (let i = firstOrder; i < firstOrder + distinct; i++) {
      const body = JSON.stringify(webhookBody('order.placed', sandbox.getOrder(i)!));
      originals.push({
        body,
        headers: {
          'content-type': 'application/json',
          'x-magento-event': 'order.placed',
          'x-magento-signature': signWebhook(secret, body, timestamp, false),
          'x-magento-timestamp': String(timestamp),
          'x-magento-idempotency-key': `${prefix}-${i}`,
          'x-magento-delivery-id': `${prefix}-d${i}`,
        },
      });
    }
  } finally {
    await sandbox.close();
  }
  const rng = new Rng(seed * 31 + count);
  const list: SignedRequest[] = [...originals];
  for (let d = 0; d < count - distinct; d++) {
    const k = rng.int(0, distinct - 1);
    const at = Math.min(list.length, list.indexOf(originals[k]) + 1 + rng.int(0, 200));
    list.splice(at, 0, { body: originals[k].body, headers: { ...originals[k].headers, 'x-magento-delivery-id': `${prefix}-r${d}` } });
  }
  return { list, distinct };
}

/** A run's result, and its length from the first request sent to the last response received. */
interface Fired { result: AutocannonResult; ms: number }

function fire(url: string, list: SignedRequest[], connections: number): Promise<Fired> {
  let next = 0;
  let started = 0;
  let lastResponse = 0;
  return new Promise<Fired>((resolve, reject) => {
    const run = autocannon({
      url,
      connections,
      pipelining: 1,
      amount: list.length,
      timeout: 30,
      requests: [{
        method: 'POST',
        setupRequest: (req: Record<string, unknown>) => {
          if (next === 0) started = performance.now();
          const r = list[next++ % list.length];
          return { ...req, body: r.body, headers: r.headers };
        },
      }],
    }, (err, result) => (err ? reject(err) : resolve({ result, ms: lastResponse - started })));
    run.on('response', () => { lastResponse = performance.now(); });
  });
}

function latencyRow({ result: r, ms }: Fired): { throughput: number; ms: number; p50Ms: number; p99Ms: number; errors: number } {
  // Timed here, not from autocannon's start and finish: it ends a run only at its next one-second sample,
  // so its duration is the real one rounded up to whole seconds (a 0.6 s run would count as 1 s).
  return { throughput: r.requests.total / (ms / 1000), ms, p50Ms: r.latency.p50, p99Ms: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx };
}

/** One variant's figures in one round. */
interface RoundFigures {
  throughput: number;
  ms: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  cpu: CpuShare;
  peakRssBytes?: number;
  /** Node-RED variants: events that passed the gate, duplicates among them, repeats the gate held back. */
  passed?: number;
  duplicatesPassed?: number;
  gateRepeats?: number;
  problems?: string[];
}

interface Variant {
  role: 'bare server' | 'pack' | 'hand-built';
  label: string;
  /** Node-RED variants: the flow, the path webhooks go to, and where webhook-in listens. */
  flow?: string;
  path?: string;
  listen?: 'node-red' | 'port';
}

const VARIANTS: Variant[] = [
  { role: 'bare server', label: 'bare Node server (HMAC check, 200)' },
  { role: 'pack', flow: 'webhooks-pack.json', path: '/bench/webhook', listen: 'node-red', label: "pack: webhook-in (Node-RED's HTTP server) → idempotency-gate (SQLite) → commit" },
  { role: 'pack', flow: 'webhooks-pack.json', path: '/bench/webhook', listen: 'port', label: 'pack: webhook-in (its own port) → idempotency-gate (SQLite) → commit' },
  { role: 'hand-built', flow: 'webhooks-hand.json', path: '/bench/webhook-hand', listen: 'node-red', label: 'hand-built flow (http in + function HMAC, memory dedupe)' },
];

function medianCpu(shares: CpuShare[]): CpuShare {
  const of = (pick: (c: CpuShare) => number | undefined): number | undefined => {
    const values = shares.map(pick).filter((x): x is number => x !== undefined);
    return values.length ? median(values) : undefined;
  };
  return { workerMsPerItem: of((c) => c.workerMsPerItem), benchMsPerItem: of((c) => c.benchMsPerItem)!, workerCores: of((c) => c.workerCores), benchCores: of((c) => c.benchCores)! };
}

export async function webhookIngest(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const secret = `bench-webhook-secret-${opts.seed}`;
  const { list, distinct } = await signedRequests(opts.webhooks, opts.seed, secret, 'bench');
  // Warm-up with other events (JIT, connection set-up) so the measured run is the steady state.
  // Other orders than the measured ones: a warm-up event must never make a measured one a repeat at the gate.
  const warmCount = Math.min(1000, Math.max(50, Math.floor(opts.webhooks / 5)));
  const warm = (await signedRequests(warmCount, opts.seed, secret, 'warm', distinct + 1)).list;
  const warmDistinct = new Set(warm.map((w) => w.headers['x-magento-idempotency-key'])).size;
  // webhook-in's own server: a port free now on loopback (the flow's node gets it through an override).
  const ownPort = await freePort();

  async function bareRound(): Promise<RoundFigures> {
    const bare = forkChild({ kind: 'bare-webhook', secret }, v8Flags(opts));
    const { url } = await bare.first;
    await fire(url!, warm, opts.connections);
    // CPU per request next to req/s: on the shared machine the wall-clock figures move with the neighbours' load.
    const meter = new CpuMeter(bare.pid);
    const run = latencyRow(await fire(url!, list, opts.connections));
    const cpu = meter.stop(list.length);
    bare.stop();
    const end = await bare.result;
    return { ...run, cpu, peakRssBytes: end.maxRss };
  }

  /**
   * A fresh Node-RED (its own user directory, so empty stores: the same events are new again) with the
   * variant's flow, warmed up, then the measured run.
   */
  async function nodeRedRound(variant: Variant, round: number): Promise<RoundFigures> {
    const own = variant.listen === 'port';
    // With BENCH_CPU_PROF, a profile per round.
    const label = `webhooks-${variant.role}${own ? '-own-port' : ''}${opts.rounds > 1 ? `-round-${round}` : ''}`;
    const nodeRed: BenchNodeRed = await startNodeRed({
      heapMb: opts.nodeRedHeapMb, nodeFlags: v8Flags(opts), flow: variant.flow!, label, env: { WEBHOOK_SECRET: secret }, credentials: { 'wh-in': { secret } },
      overrides: own ? { 'wh-in': { listen: 'port', port: String(ownPort), host: '127.0.0.1' } } : undefined,
    });
    const target = own ? `http://127.0.0.1:${ownPort}${variant.path}` : `${nodeRed.url}${variant.path}`;
    try {
      await fire(target, warm, opts.connections);
      await waitUntil('warm-up events through the flow', async () => (((await nodeRed.stats()).passed ?? 0) >= warmDistinct ? true : undefined),
        { progress: async () => (await nodeRed.stats()).passed ?? 0, stallMs: 30_000 });
      const before = await nodeRed.stats();
      nodeRed.profileStart();
      const meter = new CpuMeter(nodeRed.pid);
      const run = latencyRow(await fire(target, list, opts.connections));
      // Every event answered has been handed on (webhook-in answers after its journal write): wait until the
      // counters stop moving, then a little longer, so a late duplicate would still be seen.
      let after: Record<string, number> = await nodeRed.stats();
      let quietSince = Date.now();
      while (Date.now() - quietSince < 1_500) {
        await new Promise((r) => setTimeout(r, 250));
        const next = await nodeRed.stats();
        if (JSON.stringify(next) !== JSON.stringify(after)) quietSince = Date.now();
        after = next;
      }
      // Up to the end of the work the answers started (the gate's commits come after the 2xx).
      const cpu = meter.stop(list.length);
      await nodeRed.profileStop();
      const counted = (name: string): number => (after[name] ?? 0) - (before[name] ?? 0);
      return {
        ...run, cpu, peakRssBytes: nodeRed.peakRss(), problems: problemLines(nodeRed),
        passed: counted('passed'), duplicatesPassed: counted('duplicatesPassed'), gateRepeats: counted('gateRepeats'),
      };
    } finally {
      await nodeRed.stop();
    }
  }

  // Round by round, every variant in turn: a slower stretch of the shared machine falls on all of them.
  const rounds = new Map<Variant, RoundFigures[]>(VARIANTS.map((v) => [v, []]));
  for (let round = 1; round <= opts.rounds; round++) {
    for (const variant of VARIANTS) {
      const where = variant.listen === 'port' ? ' (webhook-in on its own port)' : '';
      log(`webhook ingest${opts.rounds > 1 ? `, round ${round} of ${opts.rounds}` : ''}: ${variant.role}${where}, ${list.length} requests at ${opts.connections} connections`);
      rounds.get(variant)!.push(variant.role === 'bare server' ? await bareRound() : await nodeRedRound(variant, round));
    }
  }
  return VARIANTS.map((variant) => webhookRow(variant, rounds.get(variant)!, list.length, distinct));
}

/** A variant's row: the median of its rounds, each round's figures kept in details.rounds. */
function webhookRow(variant: Variant, runs: RoundFigures[], items: number, distinct: number): Row {
  const nodeRed = variant.role !== 'bare server';
  const cpu = medianCpu(runs.map((r) => r.cpu));
  const errors = runs.reduce((n, r) => n + r.errors, 0);
  const duplicatesPassed = runs.reduce((n, r) => n + (r.duplicatesPassed ?? 0), 0);
  const short = runs.filter((r) => nodeRed && r.passed !== distinct);
  const notes: string[] = [];
  if (runs.length > 1) {
    notes.push(`${runs.length} rounds, interleaved with the other variants; the median shown: p99 ${runs.map((r) => r.p99Ms).join(' / ')} ms, ${runs.map((r) => int(r.throughput)).join(' / ')} req/s`);
  }
  notes.push(cpuText(cpu, nodeRed ? 'Node-RED' : 'bare server', 'request').replace('(sandbox + ERP)', '(autocannon)'));
  if (errors) notes.push(`${errors} errors or non-2xx answers`);
  if (duplicatesPassed) notes.push(`${duplicatesPassed} duplicates passed`);
  for (const r of short) notes.push(`${r.passed} events passed, ${distinct} distinct sent`);
  const problems = runs.flatMap((r) => r.problems ?? []);
  if (problems.length) notes.push(`Node-RED warned: ${problems.slice(0, 2).join(' | ')}`);
  const invariantBroken = variant.role === 'pack' && (duplicatesPassed || short.length || errors)
    ? `errors ${errors}, duplicates passed ${duplicatesPassed}, passed ${runs.map((r) => r.passed).join(' / ')} of ${distinct} per round` : undefined;
  const rss = runs.map((r) => r.peakRssBytes).filter((b): b is number => b !== undefined);
  return {
    workload: 'webhook ingest', variant: variant.label, role: variant.role, items, unit: 'req/s',
    ms: median(runs.map((r) => r.ms)), throughput: median(runs.map((r) => r.throughput)),
    p50Ms: median(runs.map((r) => r.p50Ms)), p99Ms: median(runs.map((r) => r.p99Ms)),
    calls: { received: items }, peakRssBytes: rss.length ? Math.max(...rss) : undefined, process: nodeRed ? 'Node-RED' : 'own process', notes,
    details: {
      ...(nodeRed ? { listen: variant.listen, passed: median(runs.map((r) => r.passed ?? 0)), distinct, duplicatesPassed, invariantBroken } : {}),
      errors, cpu,
      rounds: runs.map(({ throughput, ms, p50Ms, p99Ms, errors: e, passed, duplicatesPassed: d, gateRepeats }) => ({ throughput, ms, p50Ms, p99Ms, errors: e, passed, duplicatesPassed: d, gateRepeats })),
    },
  };
}
