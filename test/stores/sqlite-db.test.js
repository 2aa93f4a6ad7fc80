'use strict';
// The async SQLite layer under every SQLite store: one connection per file, turns in order, bursts
// committed together without mixing up what each turn sees or whether it failed.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { SqliteDatabase, acquireDatabase, releaseDatabase } = require('../../dist/lib/stores/sqlite-db');
const { tempDir } = require('./kinds');

describe('stores: SQLite database layer', function () {
  let dir;
  let file;
  beforeEach(() => {
    dir = tempDir('sqlite-db');
    file = path.join(dir, 'layer.sqlite');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function counter() {
    const db = acquireDatabase(file);
    await db.exec('CREATE TABLE c (n INTEGER NOT NULL); INSERT INTO c VALUES (0);');
    return db;
  }

  const increment = (db, fail) => db.transaction(async (tx) => {
    const { n } = await tx.get('SELECT n FROM c');
    await tx.run('UPDATE c SET n = ?', [n + 1]);
    if (fail) throw new Error('body failed');
    return n;
  });

  it('a burst of transactions: each sees the writes of the ones before it, in the order they were asked', async function () {
    const db = await counter();
    const seen = await Promise.all(Array.from({ length: 100 }, () => increment(db)));
    assert.deepStrictEqual(seen, Array.from({ length: 100 }, (_, i) => i));
    await releaseDatabase(file);
    // A second connection reads what was committed.
    const other = new SqliteDatabase(file);
    assert.deepStrictEqual(await other.get('SELECT n FROM c'), { n: 100 });
    await other.close();
  });

  it('a body that throws fails alone: the turns around it in the same burst are committed', async function () {
    const db = await counter();
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => increment(db, i === 7)));
    assert.deepStrictEqual(outcomes.map((o) => o.status), Array.from({ length: 20 }, (_, i) => (i === 7 ? 'rejected' : 'fulfilled')));
    assert.match(outcomes[7].reason.message, /body failed/);
    assert.deepStrictEqual(outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value), Array.from({ length: 19 }, (_, i) => i));
    assert.deepStrictEqual(await db.get('SELECT n FROM c'), { n: 19 });
    await releaseDatabase(file);
  });

  it('a read queued after a write sees it; statements report the rows they changed', async function () {
    const db = await counter();
    const [changed, row] = await Promise.all([db.run('UPDATE c SET n = n + 5'), db.get('SELECT n FROM c'), increment(db)]);
    assert.strictEqual(changed.changes, 1);
    assert.deepStrictEqual(row, { n: 5 });
    assert.deepStrictEqual(await db.all('SELECT n FROM c'), [{ n: 6 }]);
    await releaseDatabase(file);
  });

  it('more distinct statements than it keeps prepared: each still runs, and every one runs again', async function () {
    const db = await counter();
    // 150 different SQL texts: the first 100 stay prepared, the rest are prepared for one use each.
    const sql = Array.from({ length: 150 }, (_, i) => `SELECT n + ${i} AS v FROM c`);
    for (let round = 0; round < 2; round++) {
      const got = await Promise.all(sql.map((q) => db.get(q)));
      assert.deepStrictEqual(got.map((r) => r.v), sql.map((_, i) => i));
      const changed = await Promise.all(sql.slice(95, 105).map((_, i) => db.run(`UPDATE c SET n = n + 0 WHERE ${i} >= 0`)));
      assert.ok(changed.every((r) => r.changes === 1));
    }
    await releaseDatabase(file);
  });

  it('is shared per file until the last release; closing waits for queued work and refuses later calls', async function () {
    const a = await counter();
    const b = acquireDatabase(file);
    assert.strictEqual(a, b);
    const pending = increment(a);
    await releaseDatabase(file);
    const last = releaseDatabase(file);
    assert.strictEqual(await pending, 0);
    await last;
    await assert.rejects(() => a.get('SELECT n FROM c'), /layer\.sqlite is closed/);
    const again = acquireDatabase(file);
    assert.notStrictEqual(again, a);
    assert.deepStrictEqual(await again.get('SELECT n FROM c'), { n: 1 });
    await releaseDatabase(file);
  });

  it('a file that cannot be opened fails every call with the reason, and closes quietly', async function () {
    fs.mkdirSync(path.join(dir, 'not-a-file.sqlite'));
    const db = new SqliteDatabase(path.join(dir, 'not-a-file.sqlite'));
    await assert.rejects(() => db.get('SELECT 1'), /SQLITE_CANTOPEN|unable to open/);
    await assert.rejects(() => db.transaction(async () => 1), /SQLITE_CANTOPEN|unable to open/);
    await db.close();
  });

  describe('batch statements', function () {
    let statements;
    // Each row [key, v] is taken when its key is new.
    const insert = {
      name: 'test_insert',
      program: `INSERT INTO temp.batch_result (turn, result) VALUES (NEW.turn, NOT EXISTS (SELECT 1 FROM main.t WHERE key = NEW.r ->> 0));
        INSERT INTO main.t (key, v) SELECT NEW.r ->> 0, NEW.r ->> 1 WHERE (SELECT result FROM temp.batch_result WHERE turn = NEW.turn) = '1';`,
      result: (recorded) => recorded === '1',
    };
    async function table() {
      statements = [];
      const db = acquireDatabase(file);
      // How many rows each statement carried.
      const runBatch = db.runBatch.bind(db);
      db.runBatch = (jobs, from, end) => {
        statements.push(end - from);
        return runBatch(jobs, from, end);
      };
      await db.exec('CREATE TABLE t (key TEXT PRIMARY KEY, v INTEGER NOT NULL)');
      return db;
    }
    const count = (db) => db.transaction(async (tx) => (await tx.get('SELECT COUNT(*) AS n FROM t')).n);

    it('rows queued together run as one statement; each call gets its own row\'s result, as if alone', async function () {
      const db = await table();
      const calls = [
        ...Array.from({ length: 50 }, (_, i) => db.batch(insert, [`a${i}`, i])),
        count(db),
        ...Array.from({ length: 50 }, (_, i) => db.batch(insert, [`b${i}`, i])),
        db.batch(insert, ['a3', 99]),
        db.batch(insert, ['b7', 99]),
      ];
      const out = await Promise.all(calls);
      assert.ok(out.slice(0, 50).every((r) => r === true));
      // The transaction between them saw the rows asked before it and none after.
      assert.strictEqual(out[50], 50);
      assert.ok(out.slice(51, 101).every((r) => r === true));
      assert.deepStrictEqual(out.slice(101), [false, false]);
      assert.deepStrictEqual(await db.get("SELECT v FROM t WHERE key = 'b7'"), { v: 7 });
      // 102 rows in a handful of statements: the first call alone, then the runs on either side of the transaction
      // (a key asked twice, b7, needs no statement of its own: the rows run one by one inside it).
      assert.strictEqual(statements.reduce((a, b) => a + b, 0), 102);
      assert.ok(statements.length <= 4, `statements: ${statements}`);
      await releaseDatabase(file);
    });

    it('a burst of batch rows alone runs as one statement up to 1,000 rows; a group with a transaction in it stops at 200 turns', async function () {
      const db = await table();
      // A transaction holds the file's turn while the calls queue up behind it.
      const holdWhile = async (queue) => {
        let release;
        let started;
        const running = new Promise((resolve) => { started = resolve; });
        const holding = db.transaction(() => {
          started();
          return new Promise((resolve) => { release = resolve; });
        });
        await running;
        const calls = queue();
        release();
        await holding;
        return Promise.all(calls);
      };
      let out = await holdWhile(() => Array.from({ length: 1200 }, (_, i) => db.batch(insert, [`k${i}`, i])));
      assert.ok(out.every((r) => r === true));
      assert.deepStrictEqual(statements, [1000, 200]);
      statements = [];
      // With a transaction among them the group is one BEGIN … COMMIT of at most 200 turns.
      out = await holdWhile(() => [
        ...Array.from({ length: 150 }, (_, i) => db.batch(insert, [`m${i}`, i])),
        count(db),
        ...Array.from({ length: 150 }, (_, i) => db.batch(insert, [`n${i}`, i])),
      ]);
      assert.strictEqual(out[150], 1350, 'the transaction saw the 150 rows before it');
      assert.deepStrictEqual(statements, [150, 49, 101]);
      await releaseDatabase(file);
    });

    it('refuses a second program under a name already taken, and a name that is not letters, digits and _', async function () {
      const db = await table();
      assert.strictEqual(await db.batch(insert, ['x', 1]), true);
      await assert.rejects(() => db.batch({ ...insert, program: 'SELECT 1;' }, ['y', 2]), /name: two batch statements are named test_insert/);
      await assert.rejects(() => db.batch({ ...insert, name: 'bad name' }, ['y', 2]), /name: a batch statement's name is letters, digits and _/);
      assert.strictEqual(await db.batch(insert, ['y', 2]), true, 'the connection still works');
      // Queued together with good calls, a refused program fails its own calls only.
      const out = await Promise.allSettled([db.batch(insert, ['z1', 3]), db.batch({ ...insert, name: 'bad name' }, ['z2', 4]), db.batch(insert, ['z3', 5])]);
      assert.deepStrictEqual(out.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.match(out[1].reason.message, /name: a batch statement's name/);
      assert.deepStrictEqual(await db.get("SELECT COUNT(*) AS n FROM t WHERE key IN ('z1', 'z2', 'z3')"), { n: 2 });
      await releaseDatabase(file);
    });

    it('a row that makes the statement fail fails alone: the other rows are committed', async function () {
      const db = await table();
      await db.batch(insert, ['first', 0]);
      const out = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => db.batch(insert, [`k${i}`, i === 4 ? null : i])));
      assert.deepStrictEqual(out.map((o) => o.status), Array.from({ length: 10 }, (_, i) => (i === 4 ? 'rejected' : 'fulfilled')));
      assert.match(out[4].reason.message, /NOT NULL/);
      assert.deepStrictEqual(await db.get('SELECT COUNT(*) AS n FROM t'), { n: 10 });
      await releaseDatabase(file);
    });

    it('one bad row in a burst of 1,000: the group is tried again in halves, not row by row, and the rows after it still see the ones before', async function () {
      const db = await table();
      await db.batch(insert, ['first', 0]);
      statements = [];
      const out = await Promise.allSettled(Array.from({ length: 1000 }, (_, i) => db.batch(insert, [i === 999 ? 'k0' : `k${i}`, i === 617 ? null : i])));
      assert.deepStrictEqual(out.filter((o) => o.status === 'rejected').length, 1);
      assert.match(out[617].reason.message, /NOT NULL/);
      // k0 asked again last: taken already by the first row, in the other half.
      assert.deepStrictEqual([out[0].value, out[998].value, out[999].value], [true, true, false]);
      assert.deepStrictEqual(await db.get('SELECT COUNT(*) AS n FROM t'), { n: 999 });
      // The burst, then halves down to the bad row: at most 1 + 2 × 10 statements.
      assert.ok(statements.length <= 21, `statements: ${statements}`);
      assert.strictEqual(statements[0], 1000);
      await releaseDatabase(file);
    });

    it('a group the file itself refuses (full) fails every call at once with the reason; the file works again once it has room', async function () {
      const db = await table();
      await db.batch(insert, ['first', 0]);
      // SQLite's own ceiling on the file's size: no page more than it has now.
      const { page_count: pages } = await db.get('PRAGMA page_count');
      await db.run(`PRAGMA max_page_count = ${pages}`);
      statements = [];
      const big = 'x'.repeat(2000);
      const out = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => db.batch(insert, [`${big}${i}`, i])));
      assert.ok(out.every((o) => o.status === 'rejected' && /full/.test(o.reason.message)), 'every call says the file is full');
      assert.strictEqual(out[0].reason.code, 'SQLITE_FULL');
      // The burst in one statement (or the first call, then the rest): no call tried on its own again.
      assert.ok(statements.length <= 2, `statements: ${statements}`);
      await db.run(`PRAGMA max_page_count = ${pages + 1000}`);
      assert.strictEqual(await db.batch(insert, ['after', 1]), true);
      await releaseDatabase(file);
    });
  });
});
