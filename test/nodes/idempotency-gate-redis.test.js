'use strict';
// Two Node-RED runtimes sharing one gate through Redis: this process runs one (node-red-node-test-helper),
// a child process runs a real Node-RED with the same flow node; both get the same keys at the same time.
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const helper = require('node-red-node-test-helper');
const gateNode = require('../../dist/nodes/idempotency-gate/idempotency-gate.js');
const { tempDir, runPrefix, deleteRedisPrefix, REDIS_URL } = require('../stores/kinds');
const { prepareUserDir, startNodeRed, kill } = require('../crash/runtime');

helper.init(require.resolve('node-red'));

const KEYS = 40;
const gateConfig = { type: 'magento-idempotency-gate', keyFrom: 'header', keyHeader: 'Idempotency-Key', storeKind: 'redis', redisUrl: REDIS_URL, keySpace: 'shared-orders' };

function post(port, key) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/check', method: 'POST', headers: { 'Idempotency-Key': key }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe('magento-idempotency-gate: two Node-RED runtimes sharing Redis', function () {
  this.timeout(60000);
  const prefix = runPrefix('gate-2rt');
  let userDir;
  let child;
  let saved;

  before(async () => {
    saved = process.env.MAGENTO_ERP_REDIS_PREFIX;
    process.env.MAGENTO_ERP_REDIS_PREFIX = prefix;
    userDir = tempDir('gate-2rt');
    prepareUserDir(userDir, [
      { id: 'tab', type: 'tab', label: 'gate' },
      { id: 'in', z: 'tab', type: 'http in', url: '/check', method: 'post', wires: [['g']] },
      { id: 'g', z: 'tab', ...gateConfig, wires: [['passed'], ['held'], ['held']] },
      { id: 'passed', z: 'tab', type: 'function', func: 'msg.statusCode = 201; msg.payload = "passed"; return msg;', wires: [['out']] },
      { id: 'held', z: 'tab', type: 'function', func: 'msg.statusCode = 200; msg.payload = "held"; return msg;', wires: [['out']] },
      { id: 'out', z: 'tab', type: 'http response', wires: [] },
    ]);
    child = await startNodeRed(userDir, { MAGENTO_ERP_REDIS_PREFIX: prefix });
    helper.settings({ userDir: tempDir('gate-2rt-parent') });
    await new Promise((r) => helper.startServer(r));
  });
  after(async () => {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    if (child) await kill(child.child);
    if (saved === undefined) delete process.env.MAGENTO_ERP_REDIS_PREFIX; else process.env.MAGENTO_ERP_REDIS_PREFIX = saved;
    fs.rmSync(userDir, { recursive: true, force: true });
    await deleteRedisPrefix(prefix);
  });

  it('lets each key through exactly once across both runtimes', async function () {
    await helper.load(gateNode, [{ id: 'g', ...gateConfig, wires: [['passed'], ['held'], ['held']] }, { id: 'passed', type: 'helper' }, { id: 'held', type: 'helper' }]);
    const gate = helper.getNode('g');
    const local = new Map(); // key → { passed, held }
    const waiting = [];
    const record = (kind) => (msg) => {
      const c = local.get(msg.idempotencyKey) ?? { passed: 0, held: 0 };
      c[kind]++;
      local.set(msg.idempotencyKey, c);
      for (const w of waiting.splice(0)) if (!w()) waiting.push(w);
    };
    helper.getNode('passed').on('input', record('passed'));
    helper.getNode('held').on('input', record('held'));
    const settled = (key, n) => new Promise((resolve) => {
      const check = () => { const c = local.get(key); if (c && c.passed + c.held >= n) { resolve(c); return true; } return false; };
      if (!check()) waiting.push(check);
    });
    const sendLocal = (key) => gate.receive({ req: { headers: { 'idempotency-key': key } }, payload: {} });
    const remote = new Map();
    const sendRemote = async (key) => { const s = await post(child.port, key); remote.set(key, (remote.get(key) ?? 0) + (s === 201 ? 1 : 0)); };

    // Racing: two messages per key in each runtime at the same moment.
    const racing = Array.from({ length: KEYS }, (_, i) => `race_${i}`);
    await Promise.all(racing.map(async (key) => {
      sendLocal(key);
      sendLocal(key);
      await Promise.all([sendRemote(key), sendRemote(key), settled(key, 2)]);
    }));
    for (const key of racing) {
      assert.strictEqual((remote.get(key) ?? 0) + local.get(key).passed, 1, `${key}: exactly one pass`);
    }
    // Each runtime sees what the other let through.
    await sendRemote('first_remote');
    sendLocal('first_remote');
    assert.deepStrictEqual(await settled('first_remote', 1), { passed: 0, held: 1 });
    sendLocal('first_local');
    await settled('first_local', 1);
    await sendRemote('first_local');
    assert.strictEqual(remote.get('first_remote'), 1);
    assert.strictEqual(remote.get('first_local'), 0);
  });
});
