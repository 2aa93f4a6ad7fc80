/**
 * The baselines that run outside Node-RED, each in a process of its own (as Node-RED is) so every
 * contender gets the same share of the machine: the raw client loops (b) and the bare webhook server (c).
 * Forked by the workloads; takes its task as the first IPC message (a task may hold 50,000 updates, more
 * than one command-line argument may), answers over IPC with its result and its peak RSS.
 */
import crypto from 'crypto';
import http from 'http';
import path from 'path';
import axios from 'axios';
import { CpuProfiler, profileDir } from '../lib/cpu-profile';
import { createMagentoClient, validateStoreSettings } from '../../lib/magento/client';
import type { MagentoClient } from '../../lib/magento/types';

export type ChildTask =
  | { kind: 'raw-orders'; magentoUrl: string; token: string; erpUrl: string; orders: number; pageSize: number; mapping: string }
  | { kind: 'raw-push'; magentoUrl: string; token: string; path: string; field: 'sourceItems' | 'prices'; items: unknown[]; batch: number }
  | { kind: 'bare-webhook'; secret: string };

export interface ChildResult {
  ms?: number;
  url?: string;
  ok?: number;
  failed?: number;
  /** CPU (user + system) this process used over the measured loop, in ms. */
  cpuMs?: number;
  /** Peak RSS of this process in bytes (getrusage ru_maxrss). */
  maxRss: number;
}

/** The store-config node's defaults: the raw loops use the same client, concurrency and limits as the nodes. */
export function benchClient(magentoUrl: string, token: string): MagentoClient {
  return createMagentoClient(validateStoreSettings({
    name: 'bench', baseUrl: magentoUrl, storeCode: 'default', auth: { type: 'bearer', token }, timeoutMs: 30_000,
    maxConcurrency: 4, requestsPerSecond: 0, rejectUnauthorized: true, limits: { maxItemsPerRequest: 20, maxPageSize: 300, maxBulkItems: 5000 },
  }));
}

const maxRss = (): number => process.resourceUsage().maxRSS * 1024;
const cpuMsSince = (start: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
};

/**
 * Orders page by page (the next page is fetched while this one is posted) and every order of a page posted
 * to the ERP at once, as the flows' http request node does; mapped by the hand-built flow's own function
 * (the cheapest mapping that the ERP accepts), with no gate, no validation, no audit.
 */
async function rawOrders(t: Extract<ChildTask, { kind: 'raw-orders' }>): Promise<ChildResult> {
  const client = benchClient(t.magentoUrl, t.token);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const map = new Function('msg', 'env', t.mapping) as (msg: { payload: unknown }, env: { get(n: string): string }) => { payload: unknown; headers: Record<string, string>; url: string };
  const env = { get: (n: string) => (n === 'ERP_URL' ? t.erpUrl : '') };
  const agent = new http.Agent({ keepAlive: true, maxSockets: t.pageSize });
  const erp = axios.create({ httpAgent: agent, validateStatus: () => true, timeout: 30_000 });
  let ok = 0;
  let failed = 0;
  const page = (p: number) => client.request<{ items: unknown[]; total_count: number }>({
    method: 'GET', path: '/orders', operation: 'orders.list',
    query: {
      'searchCriteria[pageSize]': t.pageSize, 'searchCriteria[currentPage]': p,
      'searchCriteria[sortOrders][0][field]': 'entity_id', 'searchCriteria[sortOrders][0][direction]': 'ASC',
    },
  });
  const profiler = new CpuProfiler();
  const dir = profileDir();
  if (dir) profiler.start();
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const pages = Math.ceil(t.orders / t.pageSize);
  let next = page(1);
  for (let p = 1; p <= pages; p++) {
    const body = await next;
    if (p < pages) next = page(p + 1);
    await Promise.all(body.items.map(async (order) => {
      const m = map({ payload: order }, env);
      const res = await erp.post(m.url, m.payload, { headers: m.headers });
      if (res.status >= 200 && res.status < 300) ok++;
      else failed++;
    }));
  }
  const ms = performance.now() - started;
  const cpuMs = cpuMsSince(cpu0);
  if (dir) profiler.stop(path.resolve(dir, 'orders-raw-child.cpuprofile'));
  client.close();
  agent.destroy();
  return { ms, ok, failed, cpuMs, maxRss: maxRss() };
}

/** Updates in Magento's input-limit batches, in arrival order (nothing coalesced), 4 calls at a time. */
async function rawPush(t: Extract<ChildTask, { kind: 'raw-push' }>): Promise<ChildResult> {
  const client = benchClient(t.magentoUrl, t.token);
  const batches: unknown[][] = [];
  for (let i = 0; i < t.items.length; i += t.batch) batches.push(t.items.slice(i, i + t.batch));
  let ok = 0;
  let failed = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < batches.length) {
      const b = batches[next++];
      try {
        const answer = await client.request<unknown[]>({ method: 'POST', path: t.path, body: { [t.field]: b } });
        // base-prices answers 200 with a list of per-item failures.
        const refused = Array.isArray(answer) ? answer.length : 0;
        ok += b.length - refused;
        failed += refused;
      } catch {
        failed += b.length;
      }
    }
  }));
  const ms = performance.now() - started;
  client.close();
  return { ms, ok, failed, maxRss: maxRss() };
}

/** The ceiling for ingest: read the body, check its HMAC in constant time, answer 200. Nothing else. */
function bareWebhook(t: Extract<ChildTask, { kind: 'bare-webhook' }>): Promise<ChildResult> {
  const secret = t.secret;
  let ok = 0;
  let failed = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const expected = crypto.createHmac('sha256', secret).update(Buffer.concat(chunks)).digest();
      const given = Buffer.from(String(req.headers['x-magento-signature'] ?? ''), 'hex');
      const good = given.length === expected.length && crypto.timingSafeEqual(given, expected);
      if (good) ok++;
      else failed++;
      res.writeHead(good ? 200 : 401, { 'content-type': 'application/json' });
      res.end(good ? '{"status":"accepted"}' : '{"error":"bad signature"}');
    });
  });
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      process.send!({ url: `http://127.0.0.1:${port}`, maxRss: maxRss() });
      process.once('message', () => {
        server.close(() => resolve({ ok, failed, maxRss: maxRss() }));
        // Keep-alive sockets would hold close() open until they time out.
        server.closeAllConnections();
      });
    });
  });
}

async function main(task: ChildTask): Promise<void> {
  let result: ChildResult;
  if (task.kind === 'raw-orders') result = await rawOrders(task);
  else if (task.kind === 'raw-push') result = await rawPush(task);
  else result = await bareWebhook(task);
  process.send!({ done: true, ...result });
  process.disconnect();
}

if (require.main === module) {
  process.once('message', (task: ChildTask) => main(task).catch((err) => {
    process.send?.({ error: (err as Error).stack ?? String(err) });
    process.exitCode = 1;
    process.disconnect?.();
  }));
}
