'use strict';
const assert = require('assert');
const fs = require('fs');
const sinon = require('sinon');
const { AuditLog, attachAuditLog, openAuditLog } = require('../../dist/lib/audit');
const { tempDir } = require('./kinds');

const call = (over = {}) => ({ time: new Date().toISOString(), store: 'shop-a', method: 'GET', route: '/rest/default/V1/orders/1', operation: 'orders.get', entityType: 'order', entityId: '1', status: 200, durationMs: 10.6, ...over });

describe('audit log', function () {
  let dir;
  beforeEach(() => { dir = tempDir('audit'); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('records calls and filters by time, store, operation, entity, key and failure; newest first', async function () {
    const log = new AuditLog({ directory: dir });
    log.record(call({ time: '2024-05-01T10:00:00.000Z' }));
    log.record(call({ time: '2024-05-01T11:00:00.000Z', store: 'shop-b', operation: 'inventory.source-items.save', method: 'POST', entityType: 'sku', entityId: 'A/1', idempotencyKey: 'stock_A', status: 503, error: 'Service Unavailable', errorClass: 'transient' }));
    log.record(call({ time: '2024-05-01T12:00:00.000Z', entityId: '2' }));
    assert.deepStrictEqual((await log.query()).map((r) => r.time), ['2024-05-01T12:00:00.000Z', '2024-05-01T11:00:00.000Z', '2024-05-01T10:00:00.000Z']);
    assert.strictEqual((await log.query({ since: '2024-05-01T10:30:00Z', until: '2024-05-01T11:30:00Z' })).length, 1);
    assert.strictEqual((await log.query({ store: 'shop-b' }))[0].idempotencyKey, 'stock_A');
    assert.strictEqual((await log.query({ failedOnly: true }))[0].errorClass, 'transient');
    assert.strictEqual((await log.query({ entityType: 'order', entityId: '2' })).length, 1);
    assert.strictEqual((await log.query({ limit: 1 })).length, 1);
    assert.strictEqual((await log.query())[2].durationMs, 11);
    await assert.rejects(() => log.query({ since: 'soon' }), /since: must be an ISO date-time/);
    await assert.rejects(() => log.query({ limit: 0 }), /limit: must be an integer/);
    await log.close();
  });

  it('never stores a secret, even in an error text or a route', async function () {
    const log = new AuditLog({ directory: dir });
    log.record(call({ route: '/rest/default/V1/orders?access_token=abcdefgh12345', error: 'Authorization: Bearer abcdefgh12345 refused', status: 401 }));
    const text = JSON.stringify(await log.query());
    assert.ok(!text.includes('abcdefgh12345'), text);
    await log.close();
  });

  it('writes a full batch at once and the rest on its timer, in one transaction each', async function () {
    const log = new AuditLog({ directory: dir, batchSize: 5, flushMs: 20 });
    for (let i = 0; i < 7; i++) log.record(call({ entityId: String(i) }));
    // A second log on the file: its query writes only its own (empty) buffer, so it counts what reached the file.
    const reader = new AuditLog({ directory: dir });
    const written = async () => (await reader.query({ limit: 100 })).length;
    await log.flush();
    assert.strictEqual(await written(), 7);
    log.record(call({ entityId: 'timer' }));
    for (let waited = 0; (await written()) < 8; waited += 10) {
      assert.ok(waited < 5000, 'the timer flush never came');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await log.close();
    await reader.close();
  });

  it('a large batch goes in whole, every row intact and in the order recorded', async function () {
    const log = new AuditLog({ directory: dir, batchSize: 1000, flushMs: 10_000 });
    // 203 rows: three inserts of 64 rows and 8 + 2 + 1 for the rest.
    const n = 203;
    for (let i = 0; i < n; i++) {
      log.record(call({ entityId: String(i), idempotencyKey: i % 2 ? `order_${i}` : undefined, status: i % 7 ? 200 : 503, error: i % 7 ? undefined : `failed ${i}`, errorClass: i % 7 ? undefined : 'transient' }));
    }
    await log.flush();
    const rows = (await log.query({ limit: 1000 })).reverse();
    assert.strictEqual(rows.length, n);
    rows.forEach((r, i) => {
      assert.strictEqual(r.entityId, String(i));
      assert.strictEqual(r.idempotencyKey, i % 2 ? `order_${i}` : undefined);
      assert.strictEqual(r.status, i % 7 ? 200 : 503);
      assert.strictEqual(r.error, i % 7 ? undefined : `failed ${i}`);
      if (i > 0) assert.ok(r.id > rows[i - 1].id, 'ids follow the order the calls were recorded in');
    });
    await log.close();
  });

  it('survives closing and reopening; purges by retention', async function () {
    const clock = sinon.useFakeTimers({ now: Date.parse('2024-06-01T00:00:00Z'), toFake: ['Date'] });
    try {
      const log = new AuditLog({ directory: dir, retentionDays: 30 });
      log.record(call({ time: '2024-04-01T00:00:00.000Z' }));
      log.record(call({ time: '2024-05-20T00:00:00.000Z' }));
      await log.close();
      const again = new AuditLog({ directory: dir, retentionDays: 30 });
      assert.strictEqual((await again.query()).length, 2);
      assert.strictEqual(await again.purge(), 1);
      assert.strictEqual((await again.query()).length, 1);
      await again.close();
    } finally {
      clock.restore();
    }
  });

  it('attachAuditLog records every call of a client until detached; the log is shared per directory', async function () {
    const listeners = new Set();
    const client = { onCall: (l) => { listeners.add(l); return () => listeners.delete(l); } };
    const detachA = attachAuditLog(client, dir);
    const detachB = attachAuditLog(client, dir);
    assert.strictEqual(listeners.size, 2);
    for (const l of listeners) l(call());
    await detachA();
    const reader = openAuditLog({ directory: dir });
    assert.strictEqual((await reader.log.query()).length, 2);
    await detachB();
    assert.strictEqual(listeners.size, 0);
    await reader.release();
  });

  it('the last detach writes the buffered calls before it resolves', async function () {
    const client = { onCall: (l) => { client.listener = l; return () => { client.listener = undefined; }; } };
    const detach = attachAuditLog(client, dir);
    client.listener(call({ entityId: 'last' }));
    await detach();
    const again = new AuditLog({ directory: dir });
    assert.deepStrictEqual((await again.query()).map((r) => r.entityId), ['last']);
    await again.close();
  });
});
