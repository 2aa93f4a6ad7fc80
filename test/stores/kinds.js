'use strict';
// Store options for each kind: SQLite files under a fresh temp dir, Redis keys under a prefix unique to
// this run (other helpers' tests share the same Redis server), removed afterwards.
const fs = require('fs');
const os = require('os');
const path = require('path');
const Redis = require('ioredis');

const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';

function tempDir(label) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `magento-erp-${label}-`));
}

function runPrefix(label) {
  return `test-${label}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}:`;
}

async function deleteRedisPrefix(prefix) {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** One entry per kind: { kind, options(name) } plus cleanup(). */
function storeKinds(label) {
  const directory = tempDir(label);
  const keyPrefix = runPrefix(label);
  return {
    directory,
    keyPrefix,
    kinds: ['memory', 'sqlite', 'redis'],
    options(kind, name, extra = {}) {
      return { kind, name, directory, redisUrl: REDIS_URL, keyPrefix, purgeIntervalMs: 0, ...extra };
    },
    async cleanup() {
      fs.rmSync(directory, { recursive: true, force: true });
      await deleteRedisPrefix(keyPrefix);
    },
  };
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

module.exports = { storeKinds, tempDir, runPrefix, deleteRedisPrefix, delay, REDIS_URL };
