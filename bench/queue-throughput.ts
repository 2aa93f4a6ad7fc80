/**
 * Retry queue enqueue + dequeue per second: N failed messages (a 1 KB order payload each) put into the
 * store, then claimed when due in batches of B and marked finished, as the queue engine does.
 *   node dist/bench/queue-throughput.js [N=5000] [B=50]
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { randomUUID } from 'crypto';
import Redis from 'ioredis';
import { openRetryQueueStore, type QueueEntry, type StoreKind } from '../lib/stores';

const N = Number(process.argv[2] ?? 5000);
const B = Number(process.argv[3] ?? 50);
const REDIS_URL = process.env.MAGENTO_ERP_REDIS_URL ?? 'redis://127.0.0.1:6379';

function entry(i: number, now: number): QueueEntry {
  return {
    id: randomUUID(), state: 'pending', attempt: 1, firstFailedAt: now, updatedAt: now, nextAttemptAt: now, target: 'erp', idempotencyKey: `order_${i}`,
    message: { payload: { increment_id: String(100000000 + i), items: Array.from({ length: 5 }, (_, k) => ({ sku: `SKU-${k}`, qty: k + 1, price: 19.99, name: 'x'.repeat(120) })) }, topic: 'orders' },
    history: [{ attempt: 1, time: new Date(now).toISOString(), errorClass: 'transient', message: 'HTTP 503 Service Unavailable', status: 503, target: 'erp' }],
  };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-queue-'));
  const prefix = `bench-queue-${process.pid}-${Date.now()}:`;
  console.log(`retry queue: ${N} entries, claimed ${B} at a time`);
  console.log('store    enqueue/s   dequeue+finish/s');
  for (const kind of ['memory', 'sqlite', 'redis'] as StoreKind[]) {
    const store = openRetryQueueStore({ kind, name: 'bench', directory: dir, redisUrl: REDIS_URL, keyPrefix: prefix });
    const now = Date.now();
    const entries = Array.from({ length: N }, (_, i) => entry(i, now));
    let t = process.hrtime.bigint();
    for (const e of entries) await store.put(e, N);
    const put = Number(process.hrtime.bigint() - t) / 1e9;
    t = process.hrtime.bigint();
    let done = 0;
    for (;;) {
      const claimed = await store.claimDue(Date.now(), B, 'bench', 60_000);
      if (claimed.length === 0) break;
      for (const e of claimed) {
        e.state = 'finished';
        await store.put(e);
      }
      done += claimed.length;
    }
    const take = Number(process.hrtime.bigint() - t) / 1e9;
    if (done !== N) throw new Error(`${kind}: dequeued ${done} of ${N}`);
    console.log(`${kind.padEnd(8)} ${String(Math.round(N / put)).padStart(9)} ${String(Math.round(N / take)).padStart(18)}`);
    await store.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [nextCursor, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = nextCursor;
    if (found.length) await redis.del(...found);
  } while (cursor !== '0');
  redis.disconnect();
}

main().catch((err) => { console.error(err); process.exit(1); });
