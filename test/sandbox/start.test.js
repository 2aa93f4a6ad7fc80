'use strict';
// `npm start` / `npm run sandbox` as a user runs them: the launcher is spawned as a process with free ports,
// and every wait polls a condition with a deadline.
const assert = require('assert');
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
const START = path.join(ROOT, 'dist/sandbox/start.js');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitUntil(what, check, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The environment of a clean shell: none of the flow's variables leak in from the machine running the tests. */
function cleanEnv(extra) {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    // NODE_RED_BIN stays: it chooses the Node-RED under test (Node-RED 5 in the compatibility run).
    if (name === 'NODE_RED_BIN') continue;
    if (/^(MAGENTO_|SANDBOX_|ERP_|WEBHOOK_SECRET$|ORDER_POLL_SECONDS$|MSI_DEFAULT_SOURCE$|PORT$|NODE_RED_)/.test(name)) delete env[name];
  }
  return { ...env, ...extra };
}

function launch(args, env) {
  const child = spawn(process.execPath, [START, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (d) => (out.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (out.stderr += d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, out, exited };
}

function urlOf(stdout, label) {
  const m = new RegExp(`^\\s+${label}\\s+(http://\\S+)`, 'm').exec(stdout);
  return m && m[1];
}

describe('npm start / npm run sandbox (launcher)', function () {
  this.timeout(120000);
  let tmp;
  const running = [];

  before(function () {
    assert.ok(fs.existsSync(START), 'dist/sandbox/start.js is missing: build first (npm run build)');
  });
  beforeEach(function () {
    fs.mkdirSync(path.join(ROOT, 'test/.tmp'), { recursive: true });
    tmp = fs.mkdtempSync(path.join(ROOT, 'test/.tmp/start-'));
  });
  afterEach(async function () {
    // A failed test must not leave servers behind.
    for (const run of running.splice(0)) {
      if (run.child.exitCode === null && run.child.signalCode === null) {
        run.child.kill('SIGKILL');
        await run.exited;
      }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('starts the Magento sandbox, the demo ERP and Node-RED with our nodes loaded; Ctrl-C stops all three', async function () {
    const [port, magentoPort, erpPort] = [await freePort(), await freePort(), await freePort()];
    const userToken = 'user-provided-token-5f1e9a';
    const webhookSecret = 'user-provided-webhook-secret-8c2d';
    const run = launch(['--userdir', tmp], cleanEnv({
      PORT: String(port),
      SANDBOX_MAGENTO_PORT: String(magentoPort),
      SANDBOX_ERP_PORT: String(erpPort),
      SANDBOX_ORDERS: '5',
      SANDBOX_BEARER_TOKEN: userToken,
      SANDBOX_WEBHOOK_SECRET: webhookSecret,
      ORDER_POLL_SECONDS: '3600',
    }));
    running.push(run);
    const exitedEarly = run.exited.then((r) => { throw new Error(`launcher exited: ${JSON.stringify(r)}\n${run.out.stdout}\n${run.out.stderr}`); });
    exitedEarly.catch(() => undefined);

    await Promise.race([exitedEarly, waitUntil('the start banner', () => run.out.stdout.includes('Ctrl-C stops everything.'), 90000)]);
    const nodeRedUrl = urlOf(run.out.stdout, 'Node-RED');
    const magentoUrl = urlOf(run.out.stdout, 'Magento sandbox');
    const erpUrl = urlOf(run.out.stdout, 'Demo ERP');
    assert.strictEqual(nodeRedUrl, `http://127.0.0.1:${port}`);
    assert.strictEqual(magentoUrl, `http://127.0.0.1:${magentoPort}`);
    assert.strictEqual(erpUrl, `http://127.0.0.1:${erpPort}`);
    const nodeRedPid = Number(/pid (\d+)/.exec(run.out.stdout)[1]);
    assert.ok(isAlive(nodeRedPid));

    // The Node-RED that runs is the one asked for (NODE_RED_BIN: Node-RED 5 in the compatibility run), on this Node.
    const redJs = process.env.NODE_RED_BIN || require.resolve('node-red/red.js');
    const expected = require(path.join(path.dirname(redJs), 'package.json')).version;
    const runtime = /\(Node-RED (\S+) on Node (\S+),/.exec(run.out.stdout);
    assert.ok(runtime, `banner names the Node-RED and Node versions:\n${run.out.stdout}`);
    assert.ok(runtime[1] === expected || runtime[1].startsWith(`${expected}-`), `Node-RED ${runtime[1]} runs, ${expected} was asked for`);
    assert.strictEqual(runtime[2], process.version);

    // Every setting is printed; the secret the user gave is not.
    for (const name of ['PORT', 'SANDBOX_MAGENTO_PORT', 'SANDBOX_ERP_PORT', 'SANDBOX_SEED', 'SANDBOX_ORDERS', 'SANDBOX_BEARER_TOKEN',
      'SANDBOX_ADMIN_USER', 'SANDBOX_ADMIN_PASSWORD', 'SANDBOX_OAUTH_CONSUMER_KEY', 'SANDBOX_OAUTH_CONSUMER_SECRET',
      'SANDBOX_OAUTH_ACCESS_TOKEN', 'SANDBOX_OAUTH_ACCESS_TOKEN_SECRET', 'SANDBOX_WEBHOOK_URL', 'SANDBOX_WEBHOOK_SECRET']) {
      assert.match(run.out.stdout, new RegExp(`^\\s+${name}\\s`, 'm'), `${name} is not printed`);
    }
    assert.match(run.out.stdout, /SANDBOX_BEARER_TOKEN\s+set \(hidden\)/);

    // Node-RED lists our module's nodes, loaded without error.
    const sets = await waitUntil('Node-RED to list magento-store-config', async () => {
      const res = await fetch(`${nodeRedUrl}/nodes`, { headers: { accept: 'application/json' } });
      if (!res.ok) return undefined;
      const all = await res.json();
      const ours = all.filter((s) => s.module === 'node-red-contrib-magento-erp');
      return ours.some((s) => s.types.includes('magento-store-config')) ? ours : undefined;
    });
    const failed = sets.filter((s) => s.err !== undefined).map((s) => `${s.id}: ${JSON.stringify(s.err)}`);
    assert.deepStrictEqual(failed, [], `Node-RED failed to load node sets of this package (package.json node-red.nodes): ${failed.join('; ')}`);
    for (const set of sets) {
      assert.strictEqual(set.enabled, true, `${set.id} is disabled`);
    }

    // The deployed flow has its store config, and no credential in the flow itself.
    const flows = await (await fetch(`${nodeRedUrl}/flows`, { headers: { accept: 'application/json' } })).json();
    const store = flows.find((n) => n.type === 'magento-store-config');
    assert.ok(store, 'the deployed flow has no magento-store-config node');
    assert.strictEqual(store.baseUrl, '${MAGENTO_URL}');
    assert.ok(!JSON.stringify(flows).includes(userToken));
    const onDisk = fs.readFileSync(path.join(tmp, 'flows_cred.json'), 'utf8');
    assert.ok(!onDisk.includes(userToken), 'flows_cred.json must hold ${ENV} references only');
    assert.ok(!onDisk.includes(webhookSecret), 'flows_cred.json must hold ${ENV} references only');
    const webhookIn = flows.find((n) => n.type === 'magento-webhook-in');
    assert.ok(webhookIn, 'the full flow (flows/magento-erp.json) is deployed, with its webhook-in');
    assert.deepStrictEqual(JSON.parse(onDisk)[webhookIn.id], { secret: '${WEBHOOK_SECRET}' }, 'webhook-in gets its secret from WEBHOOK_SECRET');

    // The flow reached the sandbox with the token from the environment.
    await waitUntil('the flow to read orders from the sandbox', async () => {
      const res = await fetch(`${magentoUrl}/__sandbox/requests`);
      const { requests } = await res.json();
      return requests.some((r) => r.method === 'GET' && r.path === '/rest/default/V1/orders' && r.status === 200);
    }, 30000);
    assert.doesNotMatch(run.out.stdout + run.out.stderr, /\[error\] \[magento-store-config/, 'the store-config node refused its settings');

    // The sandbox's signed webhooks reach the flow's webhook-in, which verifies them with the same secret.
    {
      const placed = await (await fetch(`${magentoUrl}/__sandbox/orders`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ count: 1, webhook: true }),
      })).json();
      assert.strictEqual(placed.deliveries.length, 1);
      const [delivery] = placed.deliveries;
      assert.ok(delivery.status >= 200 && delivery.status < 300, `the webhook was answered ${delivery.status ?? delivery.error}: ${delivery.response ?? ''}`);
      assert.doesNotMatch(run.out.stdout + run.out.stderr, /secret[^\n]*required/i, 'webhook-in started without its secret');
      assert.doesNotMatch(run.out.stdout + run.out.stderr, /\[error\] \[magento-webhook-in/, 'webhook-in refused its settings');
    }

    // The sandbox answers with the token, the ERP stocks the sandbox's catalogue.
    const orders = await fetch(`${magentoUrl}/rest/default/V1/orders?searchCriteria[pageSize]=1`, { headers: { authorization: `Bearer ${userToken}` } });
    assert.strictEqual(orders.status, 200);
    const stock = await (await fetch(`${erpUrl}/stock`)).json();
    assert.ok(stock.total_count > 0, 'the demo ERP has no stock');
    const products = await (await fetch(`${magentoUrl}/rest/all/V1/products?searchCriteria[pageSize]=1&searchCriteria[filter_groups][0][filters][0][field]=sku&searchCriteria[filter_groups][0][filters][0][value]=${encodeURIComponent(stock.items[0].sku)}`, { headers: { authorization: `Bearer ${userToken}` } })).json();
    assert.strictEqual(products.total_count, 1, `ERP SKU ${stock.items[0].sku} is not a sandbox product`);

    run.child.kill('SIGINT');
    const result = await run.exited;
    assert.deepStrictEqual(result, { code: 0, signal: null }, run.out.stderr);
    await waitUntil('Node-RED to exit', () => !isAlive(nodeRedPid), 15000);
    for (const p of [port, magentoPort, erpPort]) assert.strictEqual(await portOpen(p), false, `port ${p} still open`);
    assert.ok(!run.out.stdout.includes(userToken) && !run.out.stderr.includes(userToken), 'the user-provided token was printed');
    assert.ok(!run.out.stdout.includes(webhookSecret) && !run.out.stderr.includes(webhookSecret), 'the user-provided webhook secret was printed');
  });

  it('npm run sandbox (--sandbox-only) starts the Magento sandbox and the demo ERP alone', async function () {
    const [port, magentoPort, erpPort] = [await freePort(), await freePort(), await freePort()];
    const run = launch(['--sandbox-only', '--userdir', tmp], cleanEnv({
      PORT: String(port), SANDBOX_MAGENTO_PORT: String(magentoPort), SANDBOX_ERP_PORT: String(erpPort), SANDBOX_ORDERS: '3',
    }));
    running.push(run);
    await waitUntil('the start banner', () => {
      if (run.child.exitCode !== null) throw new Error(`launcher exited\n${run.out.stderr}`);
      return run.out.stdout.includes('Ctrl-C stops everything.');
    }, 60000);
    assert.strictEqual(urlOf(run.out.stdout, 'Node-RED'), null);
    const { bearerToken } = require('../../dist/sandbox/magento/index.js').SANDBOX_DEFAULTS;
    assert.match(run.out.stdout, new RegExp(`SANDBOX_BEARER_TOKEN\\s+${bearerToken}\\s+\\(default, a public sandbox demo value\\)`));
    const orders = await fetch(`http://127.0.0.1:${magentoPort}/rest/default/V1/orders?searchCriteria[pageSize]=10`, { headers: { authorization: `Bearer ${bearerToken}` } });
    assert.strictEqual(orders.status, 200);
    assert.strictEqual((await orders.json()).total_count, 3);
    assert.strictEqual((await fetch(`http://127.0.0.1:${erpPort}/orders`)).status, 200);
    assert.strictEqual(await portOpen(port), false, 'Node-RED must not run with --sandbox-only');
    assert.ok(!fs.existsSync(path.join(tmp, 'settings.js')));

    run.child.kill('SIGTERM');
    assert.deepStrictEqual(await run.exited, { code: 0, signal: null });
    for (const p of [magentoPort, erpPort]) assert.strictEqual(await portOpen(p), false, `port ${p} still open`);
  });

  it('leaves no Node-RED behind even when the launcher is killed outright', async function () {
    const [port, magentoPort, erpPort] = [await freePort(), await freePort(), await freePort()];
    const run = launch(['--userdir', tmp], cleanEnv({
      PORT: String(port), SANDBOX_MAGENTO_PORT: String(magentoPort), SANDBOX_ERP_PORT: String(erpPort), SANDBOX_ORDERS: '1', ORDER_POLL_SECONDS: '3600',
    }));
    running.push(run);
    await waitUntil('the start banner', () => {
      if (run.child.exitCode !== null) throw new Error(`launcher exited\n${run.out.stderr}`);
      return run.out.stdout.includes('Ctrl-C stops everything.');
    }, 90000);
    const nodeRedPid = Number(/pid (\d+)/.exec(run.out.stdout)[1]);
    run.child.kill('SIGKILL');
    await run.exited;
    await waitUntil('the orphaned Node-RED to stop itself', () => !isAlive(nodeRedPid), 20000);
    assert.strictEqual(await portOpen(port), false);
  });

  it('names the setting when a port is taken, and starts nothing', async function () {
    const [magentoPort, erpPort] = [await freePort(), await freePort()];
    const taken = net.createServer();
    await new Promise((r) => taken.listen(0, '127.0.0.1', r));
    const port = taken.address().port;
    try {
      const run = launch(['--userdir', tmp], cleanEnv({ PORT: String(port), SANDBOX_MAGENTO_PORT: String(magentoPort), SANDBOX_ERP_PORT: String(erpPort) }));
      running.push(run);
      assert.strictEqual((await run.exited).code, 1);
      assert.match(run.out.stderr, new RegExp(`PORT ${port} is already in use: stop what uses it or set PORT to a free port`));
      assert.strictEqual(await portOpen(magentoPort), false);
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });

  it('refuses a bad setting with a clear message and exit code 1', async function () {
    const run = launch(['--userdir', tmp], cleanEnv({ PORT: 'eighteen-eighty', SANDBOX_ERP_PORT: '7090', SANDBOX_MAGENTO_PORT: '7090' }));
    running.push(run);
    const result = await run.exited;
    assert.strictEqual(result.code, 1);
    assert.match(run.out.stderr, /PORT must be a port number from 1 to 65535, not "eighteen-eighty"/);
    assert.match(run.out.stderr, /SANDBOX_MAGENTO_PORT and SANDBOX_ERP_PORT are both 7090/);
    assert.strictEqual(run.out.stdout, '');
  });
});
