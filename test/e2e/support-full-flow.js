'use strict';
/**
 * The full integration as the end-to-end tests run it: the Magento sandbox and the demo ERP in this
 * process (ports 0), and a real Node-RED process (the launcher's own helpers: user directory, settings,
 * spawn, readiness) deploying flows/magento-erp.json with the flow's environment pointing at both.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');

const { startMagentoSandbox } = require('../../dist/sandbox/magento/index.js');
const { startDemoErp } = require('../../dist/sandbox/erp/index.js');
const { readCatalog } = require('../../dist/sandbox/launcher/magento.js');
const {
  packageRoot, prepareUserDir, spawnNodeRed, waitForNodeRed, loadError,
} = require('../../dist/sandbox/launcher/node-red.js');

const ROOT = packageRoot();
const FLOW_FILE = path.join(ROOT, 'flows', 'magento-erp.json');

/** Variables the flow reads: none may leak in from the machine running the tests. */
const FLOW_ENV = /^(MAGENTO_|SANDBOX_|ERP_|WEBHOOK_SECRET$|ORDER_POLL_SECONDS$|MSI_DEFAULT_SOURCE$|PORT$|NODE_RED_)/;

/**
 * Polls `check` until it returns a truthy value or the deadline passes; then fails with `what` and,
 * when given, `explain()` — what is still missing — so a red test says why.
 */
async function waitFor(what, check, { timeoutMs = 120000, intervalMs = 250, explain } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      if (err && err.fatal) throw err;
      last = err;
    }
    if (Date.now() > deadline) {
      let detail = '';
      try {
        detail = explain ? `\n${await explain()}` : '';
      } catch (err) {
        detail = `\n(explaining failed: ${err.message})`;
      }
      throw new Error(`Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? ` (last error: ${last.message})` : ''}${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Starts the sandbox, the ERP and Node-RED with the full flow. Options: `orders` seeded in the sandbox,
 * `pollSeconds` (ORDER_POLL_SECONDS), `seed`, `erpToken` (ERP_TOKEN: the demo ERP then requires it).
 */
async function startFullFlow(options = {}) {
  const seed = options.seed ?? 42;
  const webhookSecret = 'e2e-webhook-secret-' + Math.random().toString(36).slice(2);
  const nodes = JSON.parse(fs.readFileSync(FLOW_FILE, 'utf8'));
  const webhookIn = nodes.find((n) => n.type === 'magento-webhook-in');
  const webhookPath = '/' + String(webhookIn.url).replace(/^\/+/, '');
  // Port 0: Node-RED takes a free port itself and logs it. A port picked here and handed over could be
  // taken meanwhile by another test's server (other suites run at the same time).
  const port = 0;
  // The sandbox's clock: Date.now(), moved ahead only while placeOrdersAhead places orders.
  const magentoClock = { aheadMs: 0 };
  const stack = { logs: [], nodes, webhookSecret, magentoClock };
  const cleanups = [];
  stack.stop = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // stopping anyway
      }
    }
  };
  try {
    stack.magento = await startMagentoSandbox({
      port: 0,
      seed,
      orders: options.orders ?? 20,
      webhookSecret,
      webhookSignTimestamp: webhookIn.scheme === 'timestamp.body',
      now: () => Date.now() + magentoClock.aheadMs,
    });
    cleanups.push(() => stack.magento.close());
    const { catalog, sources } = await readCatalog(stack.magento.url, stack.magento.credentials.bearerToken);
    stack.erp = await startDemoErp({
      port: 0, host: '127.0.0.1', seed, catalog, sources, token: options.erpToken,
    });
    cleanups.push(() => stack.erp.close());

    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'magento-erp-e2e-'));
    stack.userDir = userDir;
    cleanups.push(() => fs.rmSync(userDir, { recursive: true, force: true }));
    const flow = { file: FLOW_FILE, nodes, webhookSignTimestamp: webhookIn.scheme === 'timestamp.body', receivesErpChanges: true };
    // As under npm start: the flow's credentials are ${ENV} references (webhook-in's is ${WEBHOOK_SECRET}).
    const prepared = prepareUserDir({ userDir, port, root: ROOT, flow, keepFlows: false });

    const env = {};
    for (const [k, v] of Object.entries(process.env)) if (!FLOW_ENV.test(k)) env[k] = v;
    const c = stack.magento.credentials;
    Object.assign(env, {
      MAGENTO_URL: stack.magento.url,
      MAGENTO_STORE_CODE: 'default',
      MAGENTO_AUTH: options.auth ?? 'oauth1',
      MAGENTO_TOKEN: c.bearerToken,
      MAGENTO_CONSUMER_KEY: c.oauth.consumerKey,
      MAGENTO_CONSUMER_SECRET: c.oauth.consumerSecret,
      MAGENTO_ACCESS_TOKEN: c.oauth.accessToken,
      MAGENTO_ACCESS_TOKEN_SECRET: c.oauth.accessTokenSecret,
      MAGENTO_ADMIN_USER: c.adminUser,
      MAGENTO_ADMIN_PASSWORD: c.adminPassword,
      ERP_URL: stack.erp.url,
      WEBHOOK_SECRET: webhookSecret,
      ORDER_POLL_SECONDS: String(options.pollSeconds ?? 2),
      MSI_DEFAULT_SOURCE: 'default',
    });
    if (options.erpToken) env.ERP_TOKEN = options.erpToken;
    stack.env = env;
    stack.settingsFile = prepared.settingsFile;
    stack.webhookPath = webhookPath;
    cleanups.push(() => stack.nodeRed && stack.nodeRed.stop(15000));
    await launchNodeRed(stack);
    return stack;
  } catch (err) {
    await stack.stop();
    if (stack.logs.length) err.message += `\nNode-RED said:\n${stack.logs.slice(-40).join('\n')}`;
    throw err;
  }
}

/** Spawns Node-RED on the stack's user directory and waits until its flows run; points the sandbox and the ERP at it. */
async function launchNodeRed(stack) {
  const from = stack.logs.length;
  stack.nodeRed = spawnNodeRed({
    userDir: stack.userDir, settingsFile: stack.settingsFile, port: 0, env: stack.env,
    onLine: (line, stream) => {
      stack.logs.push(`${stream}: ${line}`);
      if (process.env.E2E_VERBOSE) console.log(`[node-red] ${line}`);
    },
  });
  const fresh = () => stack.logs.slice(from);
  const listening = await waitFor('Node-RED to listen', () => {
    for (const l of fresh()) {
      const m = /Server now running at (http:\/\/127\.0\.0\.1:\d+)/.exec(l);
      if (m) return m[1];
    }
    if (stack.nodeRed.child.exitCode !== null) throw Object.assign(new Error('Node-RED exited while starting'), { fatal: true });
    return undefined;
  }, { timeoutMs: 120000, explain: () => fresh().slice(-30).join('\n') });
  stack.nodeRedUrl = listening;
  const sets = await waitForNodeRed({ ...stack.nodeRed, url: listening }, 120000);
  const broken = sets.filter((s) => loadError(s)).map((s) => `${s.id}: ${loadError(s)}`);
  if (broken.length) throw new Error(`Node-RED could not load: ${broken.join('; ')}`);
  stack.magento.configure({ webhookUrl: stack.nodeRedUrl + stack.webhookPath });
  stack.erp.setIntegrationUrl(stack.nodeRedUrl);
  await waitFor('Node-RED to start the flows', () => fresh().some((l) => /Started flows/.test(l)), {
    timeoutMs: 60000, explain: () => fresh().slice(-30).join('\n'),
  });
}

/**
 * Stops Node-RED as Ctrl-C would (flows closed) and starts it again on the same user directory, flows and state.
 * `whileStopped` runs in between (e.g. ending a fault, so what the new process sends at once does not meet it).
 */
async function restartNodeRed(stack, { whileStopped } = {}) {
  await stack.nodeRed.stop(15000);
  if (whileStopped) await whileStopped();
  await launchNodeRed(stack);
}

/**
 * Places `n` orders (no webhook) stamped `aheadMs` later than now: the sandbox's clock is ahead only while they
 * are placed, and its order book never stamps a later change earlier than them. Placed synchronously (before the
 * promise is returned), so orders placed just before, in the same turn, are read by the same poll.
 */
function placeOrdersAhead(stack, n, aheadMs) {
  stack.magentoClock.aheadMs = aheadMs;
  try {
    return stack.magento.placeOrders(n);
  } finally {
    stack.magentoClock.aheadMs = 0;
  }
}

/** Presses an inject node's button (the editor's admin route). */
async function pressInject(stack, nodeId) {
  const res = await fetch(`${stack.nodeRedUrl}/inject/${nodeId}`, { method: 'POST', signal: AbortSignal.timeout(15000) });
  if (res.status !== 200) throw new Error(`POST /inject/${nodeId} answered ${res.status}`);
}

/** POSTs JSON to Node-RED; resolves {status, body}. */
async function postJson(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(30000),
  });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, body: parsed };
}

/** Error and warning lines Node-RED logged (secrets must never be among them). */
function problemLines(stack) {
  return stack.logs.filter((l) => /\[(error|warn)\]/.test(l));
}

module.exports = { startFullFlow, restartNodeRed, placeOrdersAhead, pressInject, waitFor, postJson, problemLines, FLOW_FILE, ROOT };
