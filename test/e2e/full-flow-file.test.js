'use strict';
/**
 * flows/magento-erp.json as a file: the shape Node-RED and the launcher rely on, its schemas in step with
 * schemas/, every address from the documented environment variables, and nothing secret inside.
 */
const assert = require('assert');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const FLOW_FILE = path.join(ROOT, 'flows', 'magento-erp.json');
const pkg = require('../../package.json');
const { chooseFlow } = require('../../dist/sandbox/launcher/node-red.js');

const CORE_TYPES = new Set([
  'tab', 'group', 'comment', 'inject', 'debug', 'function', 'change', 'switch', 'catch', 'complete', 'link in', 'link out',
  'http in', 'http response', 'http request', 'json', 'global-config',
]);
const FLOW_ENV = ['MAGENTO_URL', 'MAGENTO_STORE_CODE', 'MAGENTO_AUTH', 'MAGENTO_TOKEN', 'MAGENTO_CONSUMER_KEY', 'MAGENTO_CONSUMER_SECRET',
  'MAGENTO_ACCESS_TOKEN', 'MAGENTO_ACCESS_TOKEN_SECRET', 'MAGENTO_ADMIN_USER', 'MAGENTO_ADMIN_PASSWORD', 'ERP_URL', 'ERP_TOKEN',
  'WEBHOOK_SECRET', 'ORDER_POLL_SECONDS', 'MSI_DEFAULT_SOURCE'];

describe('flows/magento-erp.json (the full integration flow, as a file)', function () {
  let nodes;
  let byId;
  before(function () {
    nodes = JSON.parse(fs.readFileSync(FLOW_FILE, 'utf8'));
    byId = new Map(nodes.map((n) => [n.id, n]));
  });

  it('is what npm start deploys, with a tab per direction and one for operations', function () {
    assert.strictEqual(chooseFlow(ROOT).file, FLOW_FILE);
    assert.deepStrictEqual(nodes.filter((n) => n.type === 'tab').map((t) => t.label), ['Orders → ERP', 'ERP → Magento', 'Operations']);
    assert.strictEqual(byId.size, nodes.length, 'node ids are unique');
  });

  it('uses only core node types and the types this package registers', function () {
    const ours = new Set(Object.keys(pkg['node-red'].nodes));
    const unknown = nodes.filter((n) => !CORE_TYPES.has(n.type) && !ours.has(n.type)).map((n) => `${n.id} ${n.type}`);
    assert.deepStrictEqual(unknown, []);
  });

  it('has no broken wire, link, catch scope or group member, and every node sits on one of its tabs', function () {
    const tabs = new Set(nodes.filter((n) => n.type === 'tab').map((n) => n.id));
    const problems = [];
    for (const n of nodes) {
      if (n.type === 'tab' || n.type === 'global-config' || n.type === 'magento-store-config') continue;
      if (!tabs.has(n.z)) problems.push(`${n.id} (${n.type}) is on no tab`);
      for (const out of n.wires || []) for (const t of out) if (!byId.has(t)) problems.push(`${n.id} wired to missing ${t}`);
      for (const t of n.scope || []) if (!byId.has(t)) problems.push(`${n.id} catches missing ${t}`);
      for (const t of n.links || []) {
        const other = byId.get(t);
        if (!other) problems.push(`${n.id} links to missing ${t}`);
        else if (!(other.links || []).includes(n.id)) problems.push(`${n.id} → ${t}: the link is one-sided`);
      }
      if (n.type === 'group') for (const m of n.nodes) if (byId.get(m)?.g !== n.id) problems.push(`group ${n.id} lists ${m}, which is not in it`);
      if (n.g && !(byId.get(n.g)?.nodes || []).includes(n.id)) problems.push(`${n.id} claims group ${n.g}, which does not list it`);
      if (n.type === 'function' && n.outputs !== (n.wires || []).length) problems.push(`function ${n.name} has ${n.outputs} outputs but ${n.wires.length} wire lists`);
      if (n.type === 'function') {
        try {
          // eslint-disable-next-line no-new-func
          new Function('msg', 'node', 'env', 'context', 'flow', 'global', 'RED', n.func);
        } catch (err) {
          problems.push(`function ${n.name} does not parse: ${err.message}`);
        }
      }
    }
    // Every node with an output goes somewhere, so no message ends silently (debug and answer nodes end flows).
    for (const n of nodes) {
      if (['magento-read-orders', 'magento-idempotency-gate', 'magento-map-order', 'magento-retry-queue', 'magento-webhook-in'].includes(n.type)) {
        n.wires.forEach((out, i) => { if (out.length === 0) problems.push(`${n.name} output ${i + 1} is not wired`); });
      }
    }
    assert.deepStrictEqual(problems, []);
  });

  it('explains itself: every tab has a description, comment nodes and groups', function () {
    for (const tab of nodes.filter((n) => n.type === 'tab')) {
      assert.ok(tab.info && tab.info.length > 100, `tab ${tab.label} has no description`);
      assert.ok(nodes.some((n) => n.z === tab.id && n.type === 'comment'), `tab ${tab.label} has no comment node`);
      assert.ok(nodes.some((n) => n.z === tab.id && n.type === 'group'), `tab ${tab.label} has no group`);
    }
  });

  it('has the endpoints the launcher and the demo ERP use', function () {
    const httpIn = nodes.filter((n) => n.type === 'http in').map((n) => `${n.method} ${n.url}`).sort();
    assert.deepStrictEqual(httpIn, ['post /erp/prices', 'post /erp/products', 'post /erp/shipments', 'post /erp/stock']);
    const webhook = nodes.find((n) => n.type === 'magento-webhook-in');
    assert.strictEqual(webhook.url, '/magento/webhook');
    const choice = chooseFlow(ROOT);
    assert.strictEqual(choice.webhookPath, '/magento/webhook');
    assert.strictEqual(choice.receivesErpChanges, true);
  });

  it('validates each ERP body with exactly the schema in schemas/', function () {
    const files = { stock: 'erp-stock', prices: 'erp-prices', products: 'erp-products', shipments: 'erp-shipment' };
    for (const [kind, name] of Object.entries(files)) {
      const httpIn = nodes.find((n) => n.type === 'http in' && n.url === `/erp/${kind}`);
      const change = byId.get(httpIn.wires[0][0]);
      const rule = change.rules.find((r) => r.p === 'schema');
      const embedded = JSON.parse(rule.to);
      const file = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', `${name}.schema.json`), 'utf8'));
      delete file.$schema;
      delete file.$id;
      assert.deepStrictEqual(embedded, file, `the schema in "${change.name}" differs from schemas/${name}.schema.json: paste the file (without $schema and $id, which Node-RED's json node cannot take) into that change node`);
      const validate = byId.get(change.wires[0][0]);
      assert.strictEqual(validate.type, 'json');
    }
  });

  it('gives Node-RED\'s json node schemas it compiles without a strict-mode warning, with the meaning of schemas/', function () {
    // The json node's own ajv, set up as 70-JSON.js does; its default logger is the console, i.e. Node-RED's log.
    const jsonNode = require.resolve('@node-red/nodes/core/parsers/70-JSON.js');
    const Ajv = require(require.resolve('ajv', { paths: [path.dirname(jsonNode)] }));
    const warnings = [];
    const logger = { log() {}, warn: (...args) => warnings.push(args.join(' ')), error: (...args) => warnings.push(args.join(' ')) };
    const ajv = new Ajv({ allErrors: true, logger });
    ajv.addMetaSchema(require(require.resolve('ajv/lib/refs/json-schema-draft-06.json', { paths: [path.dirname(jsonNode)] })));
    const validators = {};
    for (const change of nodes.filter((n) => n.type === 'change')) {
      const rule = (change.rules || []).find((r) => r.p === 'schema');
      if (rule) validators[change.name] = ajv.compile(JSON.parse(rule.to));
    }
    assert.deepStrictEqual(warnings, [], 'Node-RED would log these when the first ERP body arrives');
    const shipment = validators['schema erp-shipment.schema.json'];
    const body = (id) => ({ shipment_id: id, order_number: '000000001', lines: [{ sku: 'A', qty: 1 }] });
    for (const id of ['DLV-1', 7, 'x'.repeat(255)]) assert.ok(shipment(body(id)), `shipment_id ${JSON.stringify(id)} is valid`);
    for (const id of ['', '   ', 0, -3, 1.5, true, null, 'x'.repeat(256)]) assert.ok(!shipment(body(id)), `shipment_id ${JSON.stringify(id)} is refused`);
  });

  it('takes every address from the documented environment variables and stores no secret', function () {
    const store = nodes.find((n) => n.type === 'magento-store-config');
    assert.deepStrictEqual([store.baseUrl, store.storeCode, store.authType], ['${MAGENTO_URL}', '${MAGENTO_STORE_CODE}', '${MAGENTO_AUTH}']);
    // Credentials ship only as ${ENV} references, which Node-RED (and the nodes) expand at run time: an imported
    // flow works from the environment, and no value is ever in the file.
    for (const n of nodes) {
      for (const [key, value] of Object.entries(n.credentials ?? {})) {
        assert.match(String(value), /^\$\{[A-Z][A-Z0-9_]*\}$/, `${n.type} credential ${key} must be a \${ENV} reference`);
      }
    }
    assert.deepStrictEqual(store.credentials, {
      consumerKey: '${MAGENTO_CONSUMER_KEY}', consumerSecret: '${MAGENTO_CONSUMER_SECRET}', accessToken: '${MAGENTO_ACCESS_TOKEN}',
      accessTokenSecret: '${MAGENTO_ACCESS_TOKEN_SECRET}', token: '${MAGENTO_TOKEN}', username: '${MAGENTO_ADMIN_USER}', password: '${MAGENTO_ADMIN_PASSWORD}',
    });
    for (const hook of nodes.filter((n) => n.type === 'magento-webhook-in')) assert.deepStrictEqual(hook.credentials, { secret: '${WEBHOOK_SECRET}' });
    const text = JSON.stringify(nodes);
    for (const secret of ['sandbox-token', 'sandbox-consumer-secret', 'sandbox-access-token', 'sandbox123', 'sandbox-webhook-secret']) {
      assert.ok(!text.includes(secret), `the flow holds the sandbox secret ${secret}`);
    }
    assert.ok(!/Bearer [A-Za-z0-9]/.test(text), 'a literal bearer token is in the flow');
    const used = new Set();
    for (const m of text.matchAll(/\$\{([A-Z_]+)\}|env\.get\('([A-Z_]+)'\)|\$parent\.([A-Z_]+)/g)) used.add(m[1] || m[2] || m[3]);
    for (const name of used) assert.ok(FLOW_ENV.includes(name), `${name} is not one of the documented variables`);
    for (const name of ['MAGENTO_URL', 'MAGENTO_STORE_CODE', 'MAGENTO_AUTH', 'ERP_URL', 'ERP_TOKEN', 'ORDER_POLL_SECONDS', 'MSI_DEFAULT_SOURCE', 'WEBHOOK_SECRET', 'MAGENTO_TOKEN']) {
      assert.ok(used.has(name), `${name} is not used by the flow`);
    }
    // Sandbox defaults for the addresses (never for secrets), for a Node-RED started without them.
    const global = nodes.find((n) => n.type === 'global-config');
    const defaults = Object.fromEntries(global.env.map((e) => [e.name, e.value]));
    assert.match(defaults.MAGENTO_URL, /http:\/\/127\.0\.0\.1:7080/);
    assert.match(defaults.ERP_URL, /http:\/\/127\.0\.0\.1:7090/);
    for (const name of Object.keys(defaults)) assert.ok(!/SECRET|TOKEN|PASSWORD/.test(name), `${name} must not have a default in the flow`);
  });

  it('sends the ERP the gate key as Idempotency-Key and the token only from ERP_TOKEN', function () {
    const post = nodes.find((n) => n.type === 'magento-erp-request');
    assert.ok(post, 'an erp-request node sends the orders');
    assert.strictEqual(post.method, 'POST');
    assert.strictEqual(post.url, '${ERP_URL}');
    assert.strictEqual(post.path, '/orders');
    assert.strictEqual(post.keyHeader, 'Idempotency-Key');
    assert.deepStrictEqual(post.credentials, { token: '${ERP_TOKEN}' });
    // A 409 naming the ERP order is an answer (committed), everything else on output 2 is queued: its key parked
    // for the retry when the queue retries the failure, else released.
    assert.strictEqual(post.passStatuses, '409');
    const answer = byId.get(post.wires[0][0]);
    assert.strictEqual(answer.id, post.wires[1][0], 'answers and failures go to the same function');
    assert.match(answer.func, /action: 'commit'/);
    assert.match(answer.func, /action: retried \? 'park' : 'release'/);
    const gate = nodes.find((n) => n.type === 'magento-idempotency-gate' && n.keySpace === 'orders');
    assert.strictEqual(gate.keyFrom, 'template');
  });
});
