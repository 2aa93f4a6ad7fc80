/**
 * Idempotency gate checks per second for each store: a fixed workload of N new keys then the same N
 * keys again (duplicates), with C checks in flight at once, as a burst of webhooks would arrive.
 *   node dist/bench/gate-throughput.js [N=5000] [C=50]
 * Redis at MAGENTO_ERP_REDIS_URL (default redis://127.0.0.1:6379); SQLite in a temp directory.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import Redis from 'ioredis';
import { openIdempotencyStore, type IdempotencyStore, type StoreKind } from '../lib/stores';

const N = Number(process.argv[2] ?? 5000);
const C = Number(process.argv[3] ?? 50);
const REDIS_URL = process.env.MAGENTO_ERP_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function run(store: IdempotencyStore, keys: string[], work: (key: string) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: C }, async () => {
    while (next < keys.length) await work(keys[next++]);
  }));
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-gate-'));
  const prefix = `bench-gate-${process.pid}-${Date.now()}:`;
  console.log(`gate checks: ${N} new keys + ${N} duplicates, ${C} concurrent`);
  console.log('store    new+commit/s   duplicate/s');
  for (const kind of ['memory', 'sqlite', 'redis'] as StoreKind[]) {
    const store = openIdempotencyStore({ kind, name: 'bench', directory: dir, redisUrl: REDIS_URL, keyPrefix: prefix, maxEntries: N * 2, purgeIntervalMs: 0 });
    const keys = Array.from({ length: N }, (_, i) => `order_${i}_2024-05-01 10:00:00`);
    const fresh = await run(store, keys, async (key) => {
      const a = await store.acquire(key, 300_000);
      if (a.outcome === 'acquired') await store.commit(key, a.token, { erpOrderId: key }, 86_400_000);
    });
    const dup = await run(store, keys, (key) => store.acquire(key, 300_000));
    console.log(`${kind.padEnd(8)} ${String(Math.round(N / fresh)).padStart(13)} ${String(Math.round(N / dup)).padStart(13)}`);
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
