'use strict';
// Where SQLite store files live: <userDir>/magento-erp/, and the move of a file an older version kept in
// the user directory itself.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { storeDirectoryFor, stateDirectory } = require('../../dist/lib/stores/config');
const { SqliteKeyValueStore } = require('../../dist/lib/stores/sqlite-kv');
const { tempDir } = require('./kinds');

describe('stores: store directory and older versions\' files', function () {
  let userDir;
  beforeEach(() => { userDir = tempDir('store-dir'); });
  afterEach(() => fs.rmSync(userDir, { recursive: true, force: true }));

  it('a new store goes in magento-erp/', function () {
    assert.deepStrictEqual(storeDirectoryFor(userDir, 'cursors'), { directory: path.join(userDir, 'magento-erp') });
    assert.strictEqual(stateDirectory(userDir), path.join(userDir, 'magento-erp'));
  });

  it('moves a file from the user directory with its write-ahead log, and keeps every value in it', async function () {
    const old = new SqliteKeyValueStore({ name: 'cursors', directory: userDir });
    await old.set('shop:read', { updatedAt: '2024-01-05 10:00:00', entityId: 42 });
    // A copy of the file as a crash would leave it: the value only in the write-ahead log, not yet checkpointed.
    for (const suffix of ['', '-wal']) fs.copyFileSync(path.join(userDir, `cursors.sqlite${suffix}`), path.join(userDir, `copy.sqlite${suffix}`));
    await old.close();
    assert.ok(fs.existsSync(path.join(userDir, 'copy.sqlite-wal')));

    const where = storeDirectoryFor(userDir, 'copy');
    assert.deepStrictEqual(where, { directory: path.join(userDir, 'magento-erp'), moved: true });
    assert.deepStrictEqual(fs.readdirSync(userDir).filter((f) => f.startsWith('copy.')), []);
    const moved = new SqliteKeyValueStore({ name: 'copy', directory: where.directory });
    assert.deepStrictEqual(await moved.get('shop:read'), { updatedAt: '2024-01-05 10:00:00', entityId: 42 });
    await moved.close();
    // Once moved, it stays: nothing to move the next time.
    assert.deepStrictEqual(storeDirectoryFor(userDir, 'copy'), { directory: path.join(userDir, 'magento-erp') });
  });

  it('leaves an older file alone when magento-erp/ has the store already', async function () {
    fs.mkdirSync(path.join(userDir, 'magento-erp'));
    fs.writeFileSync(path.join(userDir, 'magento-erp', 'cursors.sqlite'), '');
    fs.writeFileSync(path.join(userDir, 'cursors.sqlite'), 'older');
    assert.deepStrictEqual(storeDirectoryFor(userDir, 'cursors'), { directory: path.join(userDir, 'magento-erp') });
    assert.strictEqual(fs.readFileSync(path.join(userDir, 'cursors.sqlite'), 'utf8'), 'older');
  });

  it('a file that cannot be moved is used where it is, with the reason', function () {
    fs.writeFileSync(path.join(userDir, 'cursors.sqlite'), 'older');
    // magento-erp cannot be made: a plain file of that name is in the way.
    fs.writeFileSync(path.join(userDir, 'magento-erp'), '');
    const where = storeDirectoryFor(userDir, 'cursors');
    assert.strictEqual(where.directory, userDir);
    assert.match(where.notMoved, /EEXIST|ENOTDIR|exists|not a directory/);
    assert.strictEqual(fs.readFileSync(path.join(userDir, 'cursors.sqlite'), 'utf8'), 'older');
  });
});
