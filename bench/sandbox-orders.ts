/**
 * Benchmark: single-order GETs against the Magento sandbox (issue 3 asks for ≥ 5 000/s with 32
 * concurrent keep-alive connections, client on the same machine). The sandbox runs in its own process so
 * client and server each get a core, as they would in a real deployment.
 *
 *   npm run build && node dist/bench/sandbox-orders.js [--orders 100000] [--duration 10] [--connections 32]
 *
 * Prints requests/s, latency p50/p99 and the sandbox's RSS for two workloads: a hot set of the 2 000 most
 * recent orders (what a poller re-reads; served from the sandbox's JSON cache) and ids drawn at random from
 * all seeded orders (nearly every one built on demand: the worst case).
 */
import { fork, type ChildProcess } from 'child_process';
import path from 'path';

// autocannon ships no types; the bench only needs its promise API.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<AutocannonResult>;

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

interface ChildMessage { url?: string; rss?: number }

function startChild(orders: number): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(__filename, ['--child', String(orders)], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', (m: ChildMessage) => (m.url ? resolve({ child, url: m.url }) : reject(new Error('sandbox did not start'))));
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
  });
}

function rss(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m: ChildMessage) => resolve(m.rss ?? 0));
    child.send('rss');
  });
}

async function run(url: string, label: string, ids: () => number, duration: number, connections: number): Promise<void> {
  const result = await autocannon({
    url,
    connections,
    pipelining: 1,
    duration,
    headers: { authorization: 'Bearer sandbox-token', accept: 'application/json' },
    requests: [{ method: 'GET', setupRequest: (req: Record<string, unknown>) => ({ ...req, path: `/rest/default/V1/orders/${ids()}` }) }],
  });
  const line = [
    label.padEnd(34),
    `${Math.round(result.requests.average).toLocaleString('en-US').padStart(8)} req/s`,
    `p50 ${String(result.latency.p50).padStart(4)} ms`,
    `p99 ${String(result.latency.p99).padStart(4)} ms`,
    `non-2xx ${result.non2xx}`,
    `errors ${result.errors + result.timeouts}`,
  ].join('  ');
  console.log(line);
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startMagentoSandbox } = require(path.join(__dirname, '../sandbox/magento/index.js'));
    const sandbox = await startMagentoSandbox({ orders: Number(process.argv[3]), port: 0, maxRecordedRequests: 10_000 });
    process.on('message', (m) => { if (m === 'rss') process.send!({ rss: process.memoryUsage().rss }); });
    process.on('disconnect', () => { void sandbox.close().then(() => process.exit(0)); });
    process.send!({ url: sandbox.url });
    return;
  }
  const orders = arg('orders', 100_000);
  const duration = arg('duration', 10);
  const connections = arg('connections', 32);
  const { child, url } = await startChild(orders);
  console.log(`Magento sandbox, ${orders.toLocaleString('en-US')} seeded orders, ${connections} keep-alive connections, ${duration} s per run`);
  console.log(`sandbox RSS at start: ${Math.round((await rss(child)) / 1048576)} MB`);
  let n = 0;
  const hot = Math.min(2_000, orders);
  // Warm-up (JIT, first builds of the hot set), not reported.
  await autocannon({ url, connections, duration: 3, headers: { authorization: 'Bearer sandbox-token' }, requests: [{ method: 'GET', setupRequest: (req: Record<string, unknown>) => ({ ...req, path: `/rest/default/V1/orders/${orders - (n++ % hot)}` }) }] });
  await run(url, `hot set (${hot.toLocaleString('en-US')} most recent orders)`, () => orders - (n++ % hot), duration, connections);
  console.log(`sandbox RSS: ${Math.round((await rss(child)) / 1048576)} MB`);
  await run(url, `random over all ${orders.toLocaleString('en-US')} orders`, () => 1 + Math.floor(Math.random() * orders), duration, connections);
  console.log(`sandbox RSS after: ${Math.round((await rss(child)) / 1048576)} MB`);
  child.disconnect();
}

main().catch((err) => { console.error(err); process.exit(1); });
