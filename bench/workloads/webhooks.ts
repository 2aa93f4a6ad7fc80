/**
 * Webhook ingest: signed order events, 20 % of them redelivered (same body, same idempotency key, as
 * Magento's module retries), fired by autocannon at a fixed concurrency on loopback at webhook-in →
 * idempotency-gate (SQLite) — webhook-in as a route on Node-RED's HTTP server, and on a port of its own —
 * at the hand-built http in + function, and at a bare Node server that only checks the HMAC (the ceiling). Each receiver runs in its own process; the same request list for all.
 */
import type { EventEmitter } from 'events';
import net from 'net';
import { forkChild } from '../lib/child-process';
import { CpuMeter, cpuText, waitUntil } from '../lib/measure';
import type { BenchOptions } from '../lib/options';
import type { Row } from '../lib/report';
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

export async function webhookIngest(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const secret = `bench-webhook-secret-${opts.seed}`;
  const { list, distinct } = await signedRequests(opts.webhooks, opts.seed, secret, 'bench');
  // Warm-up with other events (JIT, connection set-up) so the measured run is the steady state.
  // Other orders than the measured ones: a warm-up event must never make a measured one a repeat at the gate.
  const warmCount = Math.min(1000, Math.max(50, Math.floor(opts.webhooks / 5)));
  const warm = (await signedRequests(warmCount, opts.seed, secret, 'warm', distinct + 1)).list;
  const rows: Row[] = [];

  log(`webhook ingest: bare server, ${list.length} requests at ${opts.connections} connections`);
  const bare = forkChild({ kind: 'bare-webhook', secret });
  const { url } = await bare.first;
  await fire(url!, warm, opts.connections);
  // CPU per request next to req/s: on the shared machine the wall-clock figures move with the neighbours' load.
  const bareMeter = new CpuMeter(bare.pid);
  const bareRun = latencyRow(await fire(url!, list, opts.connections));
  const bareCpu = bareMeter.stop(list.length);
  bare.stop();
  const bareEnd = await bare.result;
  rows.push({
    workload: 'webhook ingest', variant: 'bare Node server (HMAC check, 200)', role: 'bare server', items: list.length, unit: 'req/s',
    ms: bareRun.ms, throughput: bareRun.throughput, p50Ms: bareRun.p50Ms, p99Ms: bareRun.p99Ms, calls: { received: list.length },
    peakRssBytes: bareEnd.maxRss, process: 'own process',
    notes: [...(bareRun.errors ? [`${bareRun.errors} errors`] : []), cpuText(bareCpu, 'bare server', 'request').replace('(sandbox + ERP)', '(autocannon)')],
    details: { errors: bareRun.errors, cpu: bareCpu },
  });

  const env = { WEBHOOK_SECRET: secret };
  // webhook-in's own server: a port free now on loopback (the flow's node gets it through an override).
  const ownPort = await freePort();
  for (const variant of [
    { flow: 'webhooks-pack.json', path: '/bench/webhook', role: 'pack' as const, listen: 'node-red', label: "pack: webhook-in (Node-RED's HTTP server) → idempotency-gate (SQLite) → commit" },
    { flow: 'webhooks-pack.json', path: '/bench/webhook', role: 'pack' as const, listen: 'port', label: 'pack: webhook-in (its own port) → idempotency-gate (SQLite) → commit' },
    { flow: 'webhooks-hand.json', path: '/bench/webhook-hand', role: 'hand-built' as const, listen: 'node-red', label: 'hand-built flow (http in + function HMAC, memory dedupe)' },
  ]) {
    log(`webhook ingest: ${variant.label}, ${list.length} requests at ${opts.connections} connections`);
    const own = variant.listen === 'port';
    const nodeRed: BenchNodeRed = await startNodeRed({
      heapMb: opts.nodeRedHeapMb, flow: variant.flow, label: `webhooks-${variant.role}${own ? '-own-port' : ''}`, env, credentials: { 'wh-in': { secret } },
      overrides: own ? { 'wh-in': { listen: 'port', port: String(ownPort), host: '127.0.0.1' } } : undefined,
    });
    const target = own ? `http://127.0.0.1:${ownPort}${variant.path}` : `${nodeRed.url}${variant.path}`;
    try {
      await fire(target, warm, opts.connections);
      const warmDistinct = new Set(warm.map((w) => w.headers['x-magento-idempotency-key'])).size;
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
      const passed = (after.passed ?? 0) - (before.passed ?? 0);
      const duplicatesPassed = (after.duplicatesPassed ?? 0) - (before.duplicatesPassed ?? 0);
      const notes: string[] = [cpuText(cpu, 'Node-RED', 'request').replace('(sandbox + ERP)', '(autocannon)')];
      if (run.errors) notes.push(`${run.errors} errors or non-2xx answers`);
      if (duplicatesPassed) notes.push(`${duplicatesPassed} duplicates passed`);
      if (passed !== distinct) notes.push(`${passed} events passed, ${distinct} distinct sent`);
      const problems = problemLines(nodeRed);
      if (problems.length) notes.push(`Node-RED warned: ${problems.slice(0, 2).join(' | ')}`);
      const invariantBroken = variant.role === 'pack' && (duplicatesPassed || passed !== distinct || run.errors)
        ? `errors ${run.errors}, duplicates passed ${duplicatesPassed}, passed ${passed} of ${distinct}` : undefined;
      rows.push({
        workload: 'webhook ingest', variant: variant.label, role: variant.role, items: list.length, unit: 'req/s', ms: run.ms,
        throughput: run.throughput, p50Ms: run.p50Ms, p99Ms: run.p99Ms, calls: { received: list.length }, peakRssBytes: nodeRed.peakRss(),
        process: 'Node-RED', notes, details: { listen: variant.listen, errors: run.errors, passed, distinct, duplicatesPassed, gateRepeats: (after.gateRepeats ?? 0) - (before.gateRepeats ?? 0), invariantBroken, cpu },
      });
    } finally {
      await nodeRed.stop();
    }
  }
  return rows;
}
