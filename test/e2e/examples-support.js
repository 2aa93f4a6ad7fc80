'use strict';
/**
 * What the example-flow tests share: the examples and what is known about node types, and a running
 * stack — the Magento sandbox and the demo ERP in this process (ports 0) and a real Node-RED process
 * started with the launcher's own helpers, into which each example is deployed as the editor would
 * after Import > Examples (its ${ENV} credential references included), with the environment `npm start`
 * gives the flow pointing at the two.
 */
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const { startMagentoSandbox } = require('../../dist/sandbox/magento/index.js');
const { startDemoErp } = require('../../dist/sandbox/erp/index.js');
const { readCatalog } = require('../../dist/sandbox/launcher/magento.js');
const { packageRoot, prepareUserDir, spawnNodeRed, waitForNodeRed, loadError } = require('../../dist/sandbox/launcher/node-red.js');

const ROOT = packageRoot();
const EXAMPLES_DIR = path.join(ROOT, 'examples');
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

/** The variables the README documents for the shipped flows (and PORT, Node-RED's own). */
const FLOW_ENV_NAMES = [
  'MAGENTO_URL', 'MAGENTO_STORE_CODE', 'MAGENTO_AUTH', 'MAGENTO_TOKEN', 'MAGENTO_CONSUMER_KEY', 'MAGENTO_CONSUMER_SECRET',
  'MAGENTO_ACCESS_TOKEN', 'MAGENTO_ACCESS_TOKEN_SECRET', 'MAGENTO_ADMIN_USER', 'MAGENTO_ADMIN_PASSWORD', 'ERP_URL', 'ERP_TOKEN',
  'WEBHOOK_SECRET', 'ORDER_POLL_SECONDS', 'MSI_DEFAULT_SOURCE', 'PORT',
];
/** Nothing of the machine running the tests may reach the flow under these names. */
const FLOW_ENV = /^(MAGENTO_|SANDBOX_|ERP_|WEBHOOK_SECRET$|ORDER_POLL_SECONDS$|MSI_DEFAULT_SOURCE$|PORT$|NODE_RED_)/;

function exampleFiles() {
  return fs.readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.json')).sort();
}

function loadExample(file) {
  return JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8'));
}

/** Our node types (package.json node-red.nodes) and whether each is a config node (its editor file says so). */
function ourNodeTypes() {
  const types = new Map();
  for (const [type, js] of Object.entries(PACKAGE['node-red'].nodes)) {
    const source = path.join(ROOT, js.replace(/^dist\//, '').replace(/\.js$/, '.html'));
    const html = fs.readFileSync(source, 'utf8');
    const def = html.slice(html.indexOf(`registerType('${type}'`));
    types.set(type, { config: /category:\s*['"]config['"]/.test(def.slice(0, 400)) });
  }
  return types;
}

/** Types Node-RED itself provides: its core nodes (as registered in @node-red/nodes) and the flow structure. */
function coreNodeTypes() {
  const dir = path.join(path.dirname(require.resolve('@node-red/nodes/package.json', { paths: [path.dirname(require.resolve('node-red/package.json'))] })), 'core');
  const types = new Set(['tab', 'group', 'subflow', 'junction']);
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.js')) {
        for (const m of fs.readFileSync(p, 'utf8').matchAll(/registerType\(\s*["']([^"']+)["']/g)) types.add(m[1]);
      }
    }
  };
  walk(dir);
  return types;
}

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

/** Polls `check` until it gives a truthy value; past the deadline fails naming `what` and, if given, `explain()`. */
async function waitFor(what, check, { timeoutMs = 30000, intervalMs = 100, explain } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      let detail = '';
      if (explain) {
        try {
          detail = '\n' + (await explain());
        } catch (err) {
          detail = `\n(explaining failed: ${err.message})`;
        }
      }
      throw new Error(`Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? ` (last error: ${last.message})` : ''}${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function http(method, url, body, headers = {}) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(30000),
  });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/**
 * Listens to the editor's comms channel like the editor does: debug sidebar messages and node status.
 * Node-RED ships `ws` (its own dependency), so no client is added for the tests.
 */
async function openComms(nodeRedUrl) {
  const WebSocket = require(require.resolve('ws', { paths: [path.dirname(require.resolve('node-red/package.json'))] }));
  const ws = new WebSocket(nodeRedUrl.replace(/^http/, 'ws') + '/comms');
  const comms = { debug: [], status: new Map(), ws };
  ws.on('message', (data) => {
    let batch;
    try {
      batch = JSON.parse(String(data));
    } catch {
      return;
    }
    for (const item of Array.isArray(batch) ? batch : [batch]) {
      if (item.topic === 'debug') {
        const d = item.data;
        let msg = d.msg;
        if (typeof msg === 'string' && /^(Object|Array|array\[|json)/i.test(String(d.format))) {
          try {
            msg = JSON.parse(msg);
          } catch {
            // keep the text
          }
        }
        comms.debug.push({ id: d.id, name: d.name, topic: d.topic, property: d.property, msg, format: d.format });
      } else if (typeof item.topic === 'string' && item.topic.startsWith('status/')) {
        comms.status.set(item.topic.slice('status/'.length), item.data);
      }
    }
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ subscribe: 'debug' }));
  ws.send(JSON.stringify({ subscribe: 'status/#' }));
  return comms;
}

/**
 * Starts the sandbox (no seeded orders: each test places its own), the demo ERP stocked with the
 * sandbox's catalogue (as npm start does) and Node-RED with our package and an empty flow.
 */
/** `options.settings`: more settings.js entries (JSON values) for this Node-RED. */
async function startStack(options = {}) {
  const seed = options.seed ?? 42;
  const webhookSecret = 'examples-webhook-secret-' + Math.random().toString(36).slice(2);
  const port = await freePort();
  const nodeRedUrl = `http://127.0.0.1:${port}`;
  const stack = { logs: [], nodeRedUrl, webhookSecret, port };
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
    stack.magento = await startMagentoSandbox({ port: 0, seed, orders: 0, webhookSecret });
    cleanups.push(() => stack.magento.close());
    const { catalog, sources } = await readCatalog(stack.magento.url, stack.magento.credentials.bearerToken);
    stack.catalog = catalog;
    stack.erp = await startDemoErp({ port: 0, host: '127.0.0.1', seed, catalog, sources });
    cleanups.push(() => stack.erp.close());

    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'magento-erp-examples-'));
    stack.userDir = userDir;
    cleanups.push(() => fs.rmSync(userDir, { recursive: true, force: true }));
    const flow = { file: path.join(userDir, 'empty.json'), nodes: [], webhookSignTimestamp: false, receivesErpChanges: false };
    const prepared = prepareUserDir({ userDir, port, root: ROOT, flow, keepFlows: false });
    if (options.settings) {
      // More settings.js entries for this stack (JSON values), e.g. httpNodeAuth.
      const text = fs.readFileSync(prepared.settingsFile, 'utf8').replace('module.exports = ', 'const settings = ');
      fs.writeFileSync(prepared.settingsFile, `${text}\nObject.assign(settings, ${JSON.stringify(options.settings)});\nmodule.exports = settings;\n`);
    }

    const env = {};
    for (const [k, v] of Object.entries(process.env)) if (!FLOW_ENV.test(k)) env[k] = v;
    const c = stack.magento.credentials;
    Object.assign(env, {
      MAGENTO_URL: stack.magento.url,
      MAGENTO_STORE_CODE: 'default',
      MAGENTO_AUTH: 'oauth1',
      MAGENTO_TOKEN: c.bearerToken,
      MAGENTO_CONSUMER_KEY: c.oauth.consumerKey,
      MAGENTO_CONSUMER_SECRET: c.oauth.consumerSecret,
      MAGENTO_ACCESS_TOKEN: c.oauth.accessToken,
      MAGENTO_ACCESS_TOKEN_SECRET: c.oauth.accessTokenSecret,
      MAGENTO_ADMIN_USER: c.adminUser,
      MAGENTO_ADMIN_PASSWORD: c.adminPassword,
      ERP_URL: stack.erp.url,
      WEBHOOK_SECRET: webhookSecret,
      // Polls only when a test asks: the schedule would make counts of requests depend on timing.
      ORDER_POLL_SECONDS: '3600',
      MSI_DEFAULT_SOURCE: 'default',
      PORT: String(port),
    });
    stack.nodeRed = spawnNodeRed({
      userDir, settingsFile: prepared.settingsFile, port, env,
      onLine: (line, stream) => {
        stack.logs.push(`${stream}: ${line}`);
        if (process.env.E2E_VERBOSE) console.log(`[node-red] ${line}`);
      },
    });
    cleanups.push(() => stack.nodeRed.stop(15000));
    const sets = await waitForNodeRed(stack.nodeRed, 120000);
    const broken = sets.filter((s) => loadError(s)).map((s) => `${s.id}: ${loadError(s)}`);
    if (broken.length) throw new Error(`Node-RED could not load: ${broken.join('; ')}`);
    stack.comms = await openComms(nodeRedUrl);
    cleanups.push(() => stack.comms.ws.terminate());
    return stack;
  } catch (err) {
    await stack.stop();
    if (stack.logs.length) err.message += `\nNode-RED said:\n${stack.logs.slice(-40).join('\n')}`;
    throw err;
  }
}

/**
 * Deploys an example as the editor does after importing it (full deploy: the previous example stops).
 * Resolves once Node-RED has started the flows; returns the log lines the deploy produced.
 */
async function deploy(stack, nodes) {
  const before = stack.logs.length;
  // "Started flows" after this deploy's "Updated flows": on a Node-RED that has just started, the line of
  // its first start may still arrive after the deploy was sent, and must not count.
  const started = () => {
    const lines = stack.logs.slice(before);
    const updated = lines.findIndex((l) => /Updated flows/.test(l));
    return updated >= 0 && lines.slice(updated).some((l) => /Started flows/.test(l));
  };
  const res = await http('POST', `${stack.nodeRedUrl}/flows`, nodes, { 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v1' });
  if (res.status !== 204 && res.status !== 200) throw new Error(`POST /flows answered ${res.status}: ${JSON.stringify(res.body)}`);
  await waitFor('Node-RED to start the deployed flows', started, { timeoutMs: 30000, explain: () => stack.logs.slice(before).join('\n') });
  stack.comms.debug.length = 0;
  return stack.logs.slice(before);
}

async function inject(stack, nodeId) {
  const res = await http('POST', `${stack.nodeRedUrl}/inject/${nodeId}`);
  if (res.status !== 200) throw new Error(`POST /inject/${nodeId} answered ${res.status}: ${JSON.stringify(res.body)}`);
}

/** Waits for a debug sidebar message of the node named `name` that `match` accepts; resolves its msg. */
async function debugMessage(stack, nodes, name, match = () => true, timeoutMs = 30000) {
  const node = nodes.find((n) => n.type === 'debug' && n.name === name);
  if (!node) throw new Error(`no debug node named "${name}"`);
  const hit = await waitFor(`a debug message of "${name}"`, () => stack.comms.debug.find((d) => d.id === node.id && match(d.msg)), {
    timeoutMs,
    explain: () => `debug messages so far:\n${stack.comms.debug.map((d) => `${d.name}: ${JSON.stringify(d.msg).slice(0, 300)}`).join('\n')}\n` +
      `Node-RED said:\n${stack.logs.slice(-20).join('\n')}`,
  });
  return hit.msg;
}

/** The node of an example with this type and name. */
function byName(nodes, name, type) {
  const node = nodes.find((n) => n.name === name && (!type || n.type === type));
  if (!node) throw new Error(`no ${type ?? 'node'} named "${name}" in the example`);
  return node;
}

module.exports = {
  ROOT, EXAMPLES_DIR, PACKAGE, FLOW_ENV_NAMES, exampleFiles, loadExample, ourNodeTypes, coreNodeTypes,
  startStack, deploy, inject, debugMessage, byName, waitFor, http, freePort,
};
