'use strict';
// A retry queue and a key/value store in one SQLite file, with a put that claims a key in the same transaction.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const sinon = require('sinon');
const { SqliteClaimedQueue } = require('../../dist/lib/stores');
const { SqliteKeyValueStore: KvStore } = require('../../dist/lib/stores/sqlite-kv');
const { tempDir } = require('./kinds');

const entry = (id, message = { n: 1 }) => ({
  id, state: 'in-flight', message, attempt: 0, firstFailedAt: 1, updatedAt: 1, nextAttemptAt: 1, leaseUntil: 2, owner: 'webhook-in', history: [],
});

describe('stores: SQLite claimed queue (journal and claims in one file)', function () {
  let directory;
  let q;
  beforeEach(() => {
    directory = tempDir('claimed');
    q = new SqliteClaimedQueue({ name: 'journal', directory, purgeIntervalMs: 0 });
  });
  afterEach(async () => {
    await q.close();
    fs.rmSync(directory, { recursive: true, force: true });
  });
  const liveIds = async () => (await q.queue.list({ state: ['in-flight', 'pending'] })).map((e) => e.id).sort();

  it('writes the entry and the claim together; a held key writes neither', async () => {
    assert.strictEqual(await q.putClaimed(entry('a'), 10, 'k', { by: 'a' }, 60000), 'written');
    assert.strictEqual(await q.putClaimed(entry('b'), 10, 'k', { by: 'b' }, 60000), 'held');
    assert.deepStrictEqual(await q.claims.get('k'), { by: 'a' });
    assert.deepStrictEqual(await liveIds(), ['a']);
    assert.deepStrictEqual(fs.readdirSync(directory).filter((f) => f.endsWith('.sqlite')), ['journal.sqlite'], 'one file');
  });

  it('lets exactly one of many concurrent puts on one key through, each key once', async () => {
    const keys = ['k1', 'k2', 'k1', 'k3', 'k1', 'k2'];
    const outcomes = await Promise.all(keys.map((key, i) => q.putClaimed(entry(`e${i}`), 100, key, i, 60000)));
    assert.deepStrictEqual(outcomes, ['written', 'written', 'held', 'written', 'held', 'held']);
    assert.deepStrictEqual(await liveIds(), ['e0', 'e1', 'e3']);
    assert.deepStrictEqual([await q.claims.get('k1'), await q.claims.get('k2'), await q.claims.get('k3')], [0, 1, 3]);
  });

  it('answers full and keeps no claim when the queue has no room; a held key is answered before a full queue', async () => {
    assert.strictEqual(await q.putClaimed(entry('a'), 1, 'k1', 1, 60000), 'written');
    assert.strictEqual(await q.putClaimed(entry('b'), 1, 'k2', 2, 60000), 'full');
    assert.strictEqual(await q.claims.get('k2'), undefined, 'the claim was taken back');
    assert.strictEqual(await q.putClaimed(entry('c'), 1, 'k1', 3, 60000), 'held');
    // A burst larger than the room left: as many as fit are written, the others answered full.
    await q.queue.remove('a');
    const outcomes = await Promise.all(['x', 'y', 'z'].map((id) => q.putClaimed(entry(id), 2, `key-${id}`, id, 60000)));
    assert.deepStrictEqual(outcomes.filter((o) => o === 'written').length, 2);
    assert.deepStrictEqual(outcomes.filter((o) => o === 'full').length, 1);
    const refused = ['x', 'y', 'z'][outcomes.indexOf('full')];
    assert.strictEqual(await q.claims.get(`key-${refused}`), undefined);
    assert.strictEqual((await liveIds()).length, 2);
    // One program for every capacity: each call is bounded by its own.
    assert.deepStrictEqual(await Promise.all([q.putClaimed(entry('m1'), 2, 'km1', 1, 60000), q.putClaimed(entry('m2'), 3, 'km2', 1, 60000)]), ['full', 'written']);
  });

  it('counts the room in one burst call by call: a removal makes room for the puts after it, not before', async () => {
    assert.strictEqual(await q.putClaimed(entry('a'), 2, 'ka', 1, 60000), 'written');
    assert.strictEqual(await q.putClaimed(entry('b'), 2, 'kb', 1, 60000), 'written');
    // A transaction holds the file's turn while the calls queue up behind it, each reaching the queue before
    // the next is made: they then run as one group, in that order.
    let release;
    let started;
    const running = new Promise((resolve) => { started = resolve; });
    const holding = q.queue.database.transaction(() => {
      started();
      return new Promise((resolve) => { release = resolve; });
    });
    await running;
    const queued = () => new Promise((resolve) => setImmediate(resolve));
    const calls = [];
    for (const call of [
      () => q.putClaimed(entry('c'), 2, 'kc', 1, 60000), // full: a and b are live
      () => q.queue.remove('a'),
      () => q.putClaimed(entry('d'), 2, 'kd', 1, 60000), // in a's place
      () => q.putClaimed(entry('e'), 2, 'ke', 1, 60000), // full again
      () => q.queue.remove('b'),
      () => q.putClaimed(entry('f'), 2, 'kf', 1, 60000), // in b's place
    ]) {
      calls.push(call());
      await queued();
    }
    release();
    await holding;
    assert.deepStrictEqual(await Promise.all(calls), ['full', true, 'written', 'full', true, 'written']);
    assert.deepStrictEqual(await liveIds(), ['d', 'f']);
    assert.strictEqual(await q.claims.get('kc'), undefined, 'no claim for an entry that did not fit');
    // The next group counts afresh: still full.
    assert.strictEqual(await q.putClaimed(entry('g'), 2, 'kg', 1, 60000), 'full');
  });

  it('re-claims an expired key', async () => {
    assert.strictEqual(await q.putClaimed(entry('a'), 10, 'k', 1, 1), 'written');
    await new Promise((r) => setTimeout(r, 5));
    assert.strictEqual(await q.putClaimed(entry('b'), 10, 'k', 2, 60000), 'written');
    assert.strictEqual(await q.claims.get('k'), 2);
  });

  it('writes neither the entry nor the claim when the write fails, also inside a burst of others', async () => {
    // A trigger refuses one entry: the statement fails after the claim was already written in the transaction.
    await q.queue.database.exec("CREATE TRIGGER refuse BEFORE INSERT ON queue WHEN NEW.id = 'bad' BEGIN SELECT RAISE(ABORT, 'refused by test'); END");
    await assert.rejects(q.putClaimed(entry('bad'), 10, 'kb', 1, 60000), /refused by test/);
    assert.strictEqual(await q.claims.get('kb'), undefined);
    const outcomes = await Promise.allSettled([q.putClaimed(entry('g1'), 10, 'k1', 1, 60000), q.putClaimed(entry('bad'), 10, 'kb', 1, 60000), q.putClaimed(entry('g2'), 10, 'k2', 1, 60000)]);
    assert.deepStrictEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.strictEqual(await q.claims.get('kb'), undefined);
    assert.deepStrictEqual(await liveIds(), ['g1', 'g2']);
  });

  it('refuses a claim without a time to live and a capacity that is not a whole number, naming the field', async () => {
    await assert.rejects(q.putClaimed(entry('a'), 10, 'k', 1, undefined), (e) => e.field === 'ttlMs');
    await assert.rejects(q.putClaimed(entry('a'), 0.5, 'k', 1, 1000), (e) => e.field === 'maxLive');
    assert.strictEqual(await q.claims.get('k'), undefined);
  });

  describe('taking over claims an older version kept in a file of its own', () => {
    it('copies the unexpired keys, keeps a key already here, and removes the older file', async () => {
      const older = new KvStore({ name: 'older-seen', directory, purgeIntervalMs: 0 });
      await older.set('kept', { v: 'older' }, 60000);
      await older.set('here', { v: 'older' }, 60000);
      await older.set('forever', 1);
      await older.set('gone', 1, 1);
      await older.close();
      await new Promise((r) => setTimeout(r, 5));
      assert.strictEqual(await q.putClaimed(entry('a'), 10, 'here', { v: 'new' }, 60000), 'written');
      const file = path.join(directory, 'older-seen.sqlite');
      assert.deepStrictEqual(await q.adoptClaims(file), { adopted: 2 });
      assert.deepStrictEqual([await q.claims.get('kept'), await q.claims.get('here'), await q.claims.get('forever'), await q.claims.get('gone')],
        [{ v: 'older' }, { v: 'new' }, 1, undefined]);
      assert.deepStrictEqual(fs.readdirSync(directory).filter((f) => f.startsWith('older-seen')), []);
      assert.strictEqual(await q.putClaimed(entry('b'), 10, 'kept', 2, 60000), 'held');
    });

    it('takes nothing from a file without the table, and still removes it', async () => {
      const file = path.join(directory, 'empty.sqlite');
      fs.writeFileSync(file, '');
      assert.deepStrictEqual(await q.adoptClaims(file), { adopted: 0 });
      assert.ok(!fs.existsSync(file));
    });

    it('says so when the older file cannot be removed after the copy (it is copied again next time, harmlessly)', async () => {
      const older = new KvStore({ name: 'older-kept', directory, purgeIntervalMs: 0 });
      await older.set('kept', 1, 60000);
      await older.close();
      const file = path.join(directory, 'older-kept.sqlite');
      const rm = sinon.stub(fs, 'rmSync').throws(new Error('EACCES: permission denied'));
      try {
        assert.deepStrictEqual(await q.adoptClaims(file), { adopted: 1, notRemoved: 'EACCES: permission denied' });
      } finally {
        rm.restore();
      }
      assert.deepStrictEqual(await q.adoptClaims(file), { adopted: 0 }, 'the key is here already; the file goes now');
      assert.ok(!fs.existsSync(file));
    });

    it('leaves a file it cannot read where it is, and says why', async () => {
      const file = path.join(directory, 'not-sqlite.sqlite');
      fs.writeFileSync(file, 'this is not an SQLite database, but long enough to have a header of one. '.repeat(4));
      await assert.rejects(q.adoptClaims(file), /not a database|file is (encrypted|not)/);
      assert.ok(fs.existsSync(file));
      // The connection is usable afterwards (the older file was detached again).
      assert.strictEqual(await q.putClaimed(entry('a'), 10, 'k', 1, 60000), 'written');
    });
  });
});
