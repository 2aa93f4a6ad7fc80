'use strict';
// A second process on an SQLite store file, for the two-process tests: waits for "go" on stdin (so both
// processes start at once), runs its part and prints one JSON line with what it got.
//   node sqlite-worker.js gate <directory> <name> <keys>
//   node sqlite-worker.js claim <directory> <name> <owner>
const { openIdempotencyStore, openRetryQueueStore } = require('../../dist/lib/stores');

const [mode, directory, name, arg] = process.argv.slice(2);

async function gate() {
  const store = openIdempotencyStore({ kind: 'sqlite', name, directory, purgeIntervalMs: 0 });
  const acquired = [];
  const keys = Array.from({ length: Number(arg) }, (_, i) => `order_${i}`);
  // Several checks in flight at once, as a busy gate has.
  await Promise.all(Array.from({ length: 8 }, async (_, lane) => {
    for (let i = lane; i < keys.length; i += 8) {
      const a = await store.acquire(keys[i], 60000);
      if (a.outcome === 'acquired') acquired.push(keys[i]);
    }
  }));
  await store.close();
  return { acquired };
}

async function claim() {
  const store = openRetryQueueStore({ kind: 'sqlite', name, directory });
  const claimed = [];
  for (;;) {
    const batch = await store.claimDue(Date.now(), 3, arg, 60000);
    if (batch.length === 0) break;
    claimed.push(...batch.map((e) => e.id));
  }
  await store.close();
  return { claimed };
}

process.stdin.once('data', () => {
  (mode === 'gate' ? gate() : claim()).then(
    (out) => { process.stdout.write(`${JSON.stringify(out)}\n`); process.exit(0); },
    (err) => { process.stdout.write(`${JSON.stringify({ error: String(err && err.stack || err) })}\n`); process.exit(1); },
  );
});
process.stdout.write('ready\n');
