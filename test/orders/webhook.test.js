'use strict';
const assert = require('assert');
const crypto = require('crypto');
const w = require('../../dist/lib/orders');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { openKeyValueStore, openRetryQueueStore, sqliteFile, SqliteClaimedQueue } = require('../../dist/lib/stores');

const SECRET = 'shared-secret-123';
const settings = (over = {}) => ({ secret: SECRET, scheme: 'body', toleranceSeconds: 300, headers: { ...w.DEFAULT_HEADER_NAMES }, ...over });

describe('lib/orders webhook verification', () => {
  const body = Buffer.from('{"order_id":1,"increment_id":"000000001"}');
  const now = 1714557600000;
  const ts = String(now / 1000);

  it('computes the guide\'s hex HMAC-SHA256 over the raw body, or over timestamp.body', () => {
    assert.strictEqual(w.computeSignature(SECRET, body), crypto.createHmac('sha256', SECRET).update(body).digest('hex'));
    assert.strictEqual(w.computeSignature(SECRET, body, 'timestamp.body', ts),
      crypto.createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex'));
  });

  it('accepts upper-case hex and a sha256= prefix; refuses other lengths', () => {
    const sig = w.computeSignature(SECRET, body);
    assert.ok(w.signatureMatches(sig, sig.toUpperCase()));
    assert.ok(w.signatureMatches(sig, `sha256=${sig}`));
    assert.ok(!w.signatureMatches(sig, sig.slice(0, 63)));
    assert.ok(!w.signatureMatches(sig, ''));
  });

  it('reads headers case-insensitively and names the failing check without the secret', () => {
    const headers = { 'x-magento-signature': w.computeSignature(SECRET, body), 'X-MAGENTO-TIMESTAMP': ts };
    assert.deepStrictEqual(w.verifyWebhook(body, headers, settings(), now), { timestamp: Number(ts) });
    const err = (() => { try { w.verifyWebhook(Buffer.from('{}'), headers, settings(), now); } catch (e) { return e; } })();
    assert.strictEqual(err.status, 401);
    assert.strictEqual(err.reason, 'bad-signature');
    assert.ok(!err.message.includes(SECRET));
    assert.throws(() => w.verifyWebhook(body, { ...headers, 'X-MAGENTO-TIMESTAMP': '12:00' }, settings(), now), (e) => e.reason === 'bad-timestamp');
    // Tolerance 0 with the body scheme: the timestamp is not required.
    assert.deepStrictEqual(w.verifyWebhook(body, { 'x-magento-signature': headers['x-magento-signature'] }, settings({ toleranceSeconds: 0 }), now), { timestamp: undefined });
  });

  it('derives keys: header idempotency key, else order_<increment_id>_<created_at>, else a body hash', () => {
    const names = w.DEFAULT_HEADER_NAMES;
    const e1 = w.parseWebhookEvent(Buffer.from('{"order":{"increment_id":"7","created_at":"2024-01-01 00:00:00"}}'), { 'x-magento-event': 'order.placed' }, names);
    assert.strictEqual(e1.idempotencyKey, 'order_7_2024-01-01 00:00:00');
    assert.strictEqual(e1.event, 'order.placed');
    const e2 = w.parseWebhookEvent(Buffer.from('{"a":1}'), { 'x-magento-idempotency-key': 'K' }, names);
    assert.deepStrictEqual([e2.idempotencyKey, e2.deliveryId, e2.event], ['K', 'K', 'unknown']);
    const e3 = w.parseWebhookEvent(Buffer.from('[1]'), {}, names);
    assert.match(e3.idempotencyKey, /^body_[0-9a-f]{32}$/);
    assert.throws(() => w.parseWebhookEvent(Buffer.from('"text"'), {}, names), (e) => e.status === 400);
  });

  it('intake: claims ids atomically, journals, and undoes the claims when the journal fails', async () => {
    const seen = openKeyValueStore({ kind: 'memory', name: 'wh-seen-test' });
    const journal = openRetryQueueStore({ kind: 'memory', name: 'wh-journal-test' });
    const intake = new w.WebhookIntake(seen, journal, { dedupeTtlMs: 60000, maxJournal: 2 });
    const ev = (id, key) => ({ payload: {}, event: 'order.placed', idempotencyKey: key, deliveryId: id, businessKey: `order.placed|${key}` });
    const [a, b] = await Promise.all([intake.accept(ev('d1', 'k1')), intake.accept(ev('d1', 'k1'))]);
    assert.deepStrictEqual([a.outcome, b.outcome].sort(), ['accepted', 'duplicate']);
    assert.strictEqual((await intake.accept(ev('d2', 'k1'))).by, 'business-key');
    await intake.accept(ev('d3', 'k3'));
    // Journal full (2): refused with a transient error, claims undone so a retry can pass later.
    await assert.rejects(intake.accept(ev('d4', 'k4')), (e) => e.errorClass === 'transient');
    // What a restart finds (a new intake on the same stores); this one sent them on when it accepted them.
    assert.deepStrictEqual(await intake.unfinished(), []);
    const pending = await new w.WebhookIntake(seen, journal, { dedupeTtlMs: 60000 }).unfinished();
    assert.deepStrictEqual(pending.map((p) => p.event.deliveryId), ['d1', 'd3']);
    await intake.complete(pending[0].entryId);
    assert.strictEqual((await intake.accept(ev('d4', 'k4'))).outcome, 'accepted');
    await seen.close();
    await journal.close();
  });

  describe('intake: the journal entry, then one claim', () => {
    let seen;
    let journal;
    const ev = (id, key, body) => ({ payload: JSON.parse(body ?? '{"n":1}'), body, event: 'order.placed', idempotencyKey: key, deliveryId: id, businessKey: `order.placed|${key}` });
    const calls = (store) => {
      const counted = { setIfAbsent: 0, put: 0, remove: 0 };
      for (const name of Object.keys(counted)) {
        if (!store[name]) continue;
        const real = store[name].bind(store);
        store[name] = (...args) => { counted[name]++; return real(...args); };
      }
      return counted;
    };
    beforeEach(() => {
      seen = openKeyValueStore({ kind: 'memory', name: 'wh-seen-unit' });
      journal = openRetryQueueStore({ kind: 'memory', name: 'wh-journal-unit' });
    });
    afterEach(async () => {
      await seen.close();
      await journal.close();
    });
    const live = async () => (await journal.list({ state: ['in-flight', 'pending'] })).map((e) => e.message.deliveryId);

    it('lets exactly one of many concurrent deliveries of one event through, and leaves only its journal entry', async () => {
      const intake = new w.WebhookIntake(seen, journal, { dedupeTtlMs: 60000 });
      const outcomes = await Promise.all(['a', 'b', 'c', 'a', 'd'].map((id) => intake.accept(ev(id, 'k1'))));
      const accepted = outcomes.filter((o) => o.outcome === 'accepted');
      assert.strictEqual(accepted.length, 1);
      await new Promise((r) => setImmediate(r));
      assert.deepStrictEqual(await live(), ['a'], 'the repeats\' entries are removed again');
      assert.deepStrictEqual(outcomes.slice(1).map((o) => o.by), ['business-key', 'business-key', 'delivery-id', 'business-key']);
    });

    it('answers a repeat of an event it accepted from memory, with no store write', async () => {
      const intake = new w.WebhookIntake(seen, journal, { dedupeTtlMs: 60000 });
      assert.strictEqual((await intake.accept(ev('d1', 'k1'))).outcome, 'accepted');
      const s = calls(seen);
      const j = calls(journal);
      assert.deepStrictEqual(await intake.accept(ev('d1', 'k1')), { outcome: 'duplicate', by: 'delivery-id' });
      assert.deepStrictEqual(await intake.accept(ev('d2', 'k1')), { outcome: 'duplicate', by: 'business-key' });
      assert.deepStrictEqual([s.setIfAbsent, j.put, j.remove], [0, 0, 0]);
      // Past the TTL the memory no longer answers: the store is asked again (its own clock says the claim holds).
      assert.deepStrictEqual(await intake.accept(ev('d3', 'k1'), Date.now() + 120000), { outcome: 'duplicate', by: 'business-key' });
      assert.strictEqual(s.setIfAbsent, 1);
    });

    it('reads who holds a claim made elsewhere (another process, an earlier run) to say why a repeat is one', async () => {
      const earlier = new w.WebhookIntake(seen, journal, { dedupeTtlMs: 60000 });
      await earlier.accept(ev('d1', 'k1'));
      const intake = new w.WebhookIntake(seen, journal, { dedupeTtlMs: 60000 });
      assert.deepStrictEqual(await intake.accept(ev('d1', 'k1')), { outcome: 'duplicate', by: 'delivery-id' });
      assert.deepStrictEqual(await intake.accept(ev('d2', 'k1')), { outcome: 'duplicate', by: 'business-key' });
      // A claim written by an older version ({at, event}) names no delivery.
      await seen.set(w.WebhookIntake.businessKey('order.placed|old'), { at: 1, event: 'order.placed' }, 60000);
      assert.deepStrictEqual(await intake.accept(ev('d9', 'old')), { outcome: 'duplicate', by: 'business-key' });
    });

    it('answers a repeat as a duplicate even when the journal is full; a new event then gets 503', async () => {
      const intake = new w.WebhookIntake(seen, journal, { dedupeTtlMs: 60000, maxJournal: 1, recentKeys: 0 });
      const first = await intake.accept(ev('d1', 'k1'));
      assert.deepStrictEqual(await intake.accept(ev('d2', 'k1')), { outcome: 'duplicate', by: 'business-key' });
      await assert.rejects(intake.accept(ev('d3', 'k3')), (e) => e.errorClass === 'transient' && /journal is full/.test(e.message));
      // Its claim was undone: accepted once there is room.
      await intake.complete(first.entryId);
      assert.strictEqual((await intake.accept(ev('d3', 'k3'))).outcome, 'accepted');
    });

    it('journals before it claims, and keeps neither when one of the writes fails', async () => {
      const intake = new w.WebhookIntake(seen, journal, { dedupeTtlMs: 60000 });
      // The order matters for a crash between the two: a journal entry alone is emitted again at the next
      // start; a claim alone would make the sender's retry a "duplicate" of an event never journaled.
      const order = [];
      const realPut = journal.put.bind(journal);
      const realClaim = seen.setIfAbsent.bind(seen);
      journal.put = async (...args) => { order.push('journal:start'); const r = await realPut(...args); order.push('journal:done'); return r; };
      seen.setIfAbsent = async (...args) => { order.push('claim:start'); return realClaim(...args); };
      await intake.accept(ev('d0', 'k0'));
      assert.deepStrictEqual(order, ['journal:start', 'journal:done', 'claim:start']);
      journal.put = realPut;
      seen.setIfAbsent = realClaim;
      const put = journal.put;
      journal.put = () => Promise.reject(new Error('SQLITE_FULL: database or disk is full'));
      await assert.rejects(intake.accept(ev('d1', 'k1')), (e) => e.errorClass === 'transient' && /SQLITE_FULL/.test(e.message));
      journal.put = put;
      assert.strictEqual(await seen.get(w.WebhookIntake.businessKey('order.placed|k1')), undefined);
      const setIfAbsent = seen.setIfAbsent;
      seen.setIfAbsent = () => Promise.reject(new Error('store down'));
      await assert.rejects(intake.accept(ev('d1', 'k1')), (e) => e.errorClass === 'transient' && /store down/.test(e.message));
      seen.setIfAbsent = setIfAbsent;
      assert.deepStrictEqual(await live(), ['d0'], 'only the accepted event is journaled');
      assert.strictEqual((await intake.accept(ev('d1', 'k1'))).outcome, 'accepted');
    });

    it('does not give back at replay what it accepted itself (sent on already): a webhook may come before the flows start', async () => {
      const intake = new w.WebhookIntake(seen, journal, { dedupeTtlMs: 60000 });
      const early = await intake.accept(ev('early', 'k1'));
      assert.deepStrictEqual(await intake.unfinished(), []);
      // A later instance (the next start) gives it back until the flow took it over.
      const next = new w.WebhookIntake(seen, journal, { dedupeTtlMs: 60000 });
      assert.deepStrictEqual((await next.unfinished()).map((u) => u.entryId), [early.entryId]);
      await intake.complete(early.entryId);
      assert.deepStrictEqual(await next.unfinished(), []);
    });

    it('gives back another instance\'s events received before a time, each once (a shared journal whose instance stopped)', async () => {
      const stopped = new w.WebhookIntake(seen, journal, { dedupeTtlMs: 60000 });
      const minute = 60000;
      const old = await stopped.accept(ev('old', 'k1'), Date.now() - 20 * minute);
      const older = await stopped.accept(ev('older', 'k2'), Date.now() - 30 * minute);
      const fresh = await stopped.accept(ev('fresh', 'k3'));
      const running = new w.WebhookIntake(seen, journal, { dedupeTtlMs: 60000 });
      const cutoff = Date.now() - 10 * minute;
      assert.deepStrictEqual((await running.unfinished(1000, cutoff)).map((u) => u.entryId), [older.entryId, old.entryId], 'oldest first');
      assert.deepStrictEqual(await running.unfinished(1000, cutoff), [], 'each given back once');
      assert.deepStrictEqual(await stopped.unfinished(1000, Date.now()), [], 'not to the instance that accepted them');
      // Without a time (a start): what is left, not what was given back already.
      assert.deepStrictEqual((await running.unfinished()).map((u) => u.entryId), [fresh.entryId]);
      // Taken over by the flow: gone from the journal, for every instance.
      for (const e of [old, older, fresh]) await running.complete(e.entryId);
      assert.deepStrictEqual(await new w.WebhookIntake(seen, journal, { dedupeTtlMs: 60000 }).unfinished(), []);
    });

    it('journals the body as received and gives the parsed payload back at replay, also for entries of older versions', async () => {
      const intake = new w.WebhookIntake(seen, journal, { dedupeTtlMs: 60000 });
      const body = '{ "increment_id" : "000000042",  "total": 1.50 }';
      await intake.accept({ ...ev('d1', 'k1', body), timestamp: 1714557600 });
      const [stored] = await journal.list({ state: 'in-flight' });
      assert.strictEqual(stored.message.body, body);
      assert.strictEqual(stored.message.payload, undefined);
      // An entry as the previous version wrote it: the parsed payload itself.
      await journal.put({ ...stored, id: 'old-1', firstFailedAt: stored.firstFailedAt + 1, message: { payload: { n: 2 }, event: 'order.placed', idempotencyKey: 'k2', deliveryId: 'd2', businessKey: 'order.placed|k2', receivedAt: stored.message.receivedAt } });
      const replay = await new w.WebhookIntake(seen, journal, { dedupeTtlMs: 60000 }).unfinished();
      assert.deepStrictEqual(replay.map((r) => [r.event.deliveryId, r.event.payload, r.event.timestamp]),
        [['d1', { increment_id: '000000042', total: 1.5 }, 1714557600], ['d2', { n: 2 }, undefined]]);
    });
  });

  describe('intake on one SQLite file: the journal entry and the claim in one transaction', () => {
    let directory;
    let claimed;
    const ev = (id, key) => ({ payload: { n: 1 }, body: '{"n":1}', event: 'order.placed', idempotencyKey: key, deliveryId: id, businessKey: `order.placed|${key}` });
    const intakeOf = (options = {}) => new w.WebhookIntake(claimed.claims, claimed.queue, {
      dedupeTtlMs: 60000, journalClaimed: (...args) => claimed.putClaimed(...args), ...options,
    });
    beforeEach(() => {
      directory = fs.mkdtempSync(path.join(os.tmpdir(), 'wh-claimed-'));
      claimed = new SqliteClaimedQueue({ name: 'journal', directory, purgeIntervalMs: 0 });
    });
    afterEach(async () => {
      await claimed.close();
      fs.rmSync(directory, { recursive: true, force: true });
    });
    const live = async () => (await claimed.queue.list({ state: ['in-flight', 'pending'] })).map((e) => e.message.deliveryId).sort();

    it('lets one of many concurrent deliveries through and journals only it; repeats say why from the store', async () => {
      const intake = intakeOf();
      const outcomes = await Promise.all(['a', 'b', 'a', 'c'].map((id) => intake.accept(ev(id, 'k1'))));
      assert.deepStrictEqual(outcomes.map((o) => o.outcome), ['accepted', 'duplicate', 'duplicate', 'duplicate']);
      assert.deepStrictEqual(await live(), ['a']);
      // Another process (a fresh intake, nothing in memory) asks the file.
      const other = intakeOf();
      assert.deepStrictEqual(await other.accept(ev('a', 'k1')), { outcome: 'duplicate', by: 'delivery-id' });
      assert.deepStrictEqual(await other.accept(ev('z', 'k1')), { outcome: 'duplicate', by: 'business-key' });
      assert.deepStrictEqual(await live(), ['a'], 'a repeat leaves no entry to take back');
      const [{ entryId, event }] = await other.unfinished();
      assert.deepStrictEqual([entryId, event.deliveryId], [outcomes[0].entryId, 'a']);
      assert.deepStrictEqual(await intake.unfinished(), [], 'the intake that accepted it sent it on already');
    });

    it('answers 503-worthy errors when the journal is full or the write fails, and keeps no claim either way', async () => {
      const intake = intakeOf({ maxJournal: 1, recentKeys: 0 });
      const first = await intake.accept(ev('d1', 'k1'));
      assert.deepStrictEqual(await intake.accept(ev('d2', 'k1')), { outcome: 'duplicate', by: 'business-key' });
      await assert.rejects(intake.accept(ev('d3', 'k3')), (e) => e.errorClass === 'transient' && /journal is full/.test(e.message));
      assert.strictEqual(await claimed.claims.get(w.WebhookIntake.businessKey('order.placed|k3')), undefined);
      await intake.complete(first.entryId);
      await claimed.queue.database.exec("CREATE TRIGGER refuse BEFORE INSERT ON queue BEGIN SELECT RAISE(ABORT, 'disk is full'); END");
      await assert.rejects(intake.accept(ev('d3', 'k3')), (e) => e.errorClass === 'transient' && /could not be stored durably: .*disk is full/.test(e.message));
      assert.strictEqual(await claimed.claims.get(w.WebhookIntake.businessKey('order.placed|k3')), undefined);
      await claimed.queue.database.exec('DROP TRIGGER refuse');
      assert.strictEqual((await intake.accept(ev('d3', 'k3'))).outcome, 'accepted', 'the sender\'s retry is accepted');
    });
  });

  describe('openIntakeStores', () => {
    let directory;
    beforeEach(() => { directory = fs.mkdtempSync(path.join(os.tmpdir(), 'wh-stores-')); });
    afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));
    const ev = (id, key) => ({ payload: { n: 1 }, body: '{"n":1}', event: 'order.placed', idempotencyKey: key, deliveryId: id, businessKey: `order.placed|${key}` });
    const names = { journalName: 'wh-journal', seenName: 'wh-seen' };

    it('SQLite: journal and seen-set in one file, written together; the claims of an older seen-set file moved in and that file deleted', async () => {
      // What an older version left: the seen-set in a file of its own.
      const olderSeenSetFile = sqliteFile(directory, names.seenName);
      const older = openKeyValueStore({ kind: 'sqlite', name: names.seenName, directory });
      await older.set(w.WebhookIntake.businessKey('order.placed|old'), { at: 1, event: 'order.placed' }, 60000);
      await older.set('gone', 1, 1);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await older.close();
      const stores = w.openIntakeStores({ kind: 'sqlite', directory, olderSeenSetFile, ...names });
      assert.deepStrictEqual(await stores.adopting, { adopted: 1 }, 'the unexpired claim only');
      assert.ok(!fs.existsSync(olderSeenSetFile));
      assert.strictEqual(typeof stores.journalClaimed, 'function');
      const intake = new w.WebhookIntake(stores.seen, stores.journal, { dedupeTtlMs: 60000, journalClaimed: stores.journalClaimed });
      assert.deepStrictEqual(await intake.accept(ev('d1', 'old')), { outcome: 'duplicate', by: 'business-key' });
      assert.strictEqual((await intake.accept(ev('d2', 'new'))).outcome, 'accepted');
      // One file: the entry and the claim read back through either store.
      assert.deepStrictEqual((await stores.journal.list({ state: ['in-flight'] })).map((e) => e.message.deliveryId), ['d2']);
      assert.strictEqual((await stores.seen.get(w.WebhookIntake.businessKey('order.placed|new'))).deliveryId, 'd2');
      assert.deepStrictEqual(fs.readdirSync(directory).filter((f) => f.endsWith('.sqlite')), ['wh-journal.sqlite']);
      await stores.close();
      // No older file: nothing to adopt.
      const again = w.openIntakeStores({ kind: 'sqlite', directory, olderSeenSetFile, ...names });
      assert.strictEqual(again.adopting, undefined);
      await again.close();
    });

    it('memory (and Redis): two stores, written in turn; closing closes both', async () => {
      const stores = w.openIntakeStores({ kind: 'memory', directory, ...names });
      assert.deepStrictEqual([stores.journalClaimed, stores.adopting], [undefined, undefined]);
      const intake = new w.WebhookIntake(stores.seen, stores.journal, { dedupeTtlMs: 60000 });
      assert.strictEqual((await intake.accept(ev('d1', 'k1'))).outcome, 'accepted');
      assert.strictEqual((await stores.seen.get(w.WebhookIntake.businessKey('order.placed|k1'))).deliveryId, 'd1');
      const closed = [];
      for (const store of [stores.seen, stores.journal]) {
        const close = store.close.bind(store);
        store.close = () => { closed.push(store === stores.seen ? 'seen' : 'journal'); return close(); };
      }
      await stores.close();
      assert.deepStrictEqual(closed.sort(), ['journal', 'seen']);
    });
  });
});
