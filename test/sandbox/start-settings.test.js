'use strict';
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');

const { readSettings, describeSettings, SettingsError } = require('../../dist/sandbox/launcher/settings.js');
const { SANDBOX_DEFAULTS } = require('../../dist/sandbox/magento/index.js');
const { chooseFlow, prepareUserDir, packageRoot, STORE_CREDENTIAL_ENV } = require('../../dist/sandbox/launcher/node-red.js');
const { splitCredentials } = require('../../dist/sandbox/launcher/node-red.js');

describe('launcher settings', function () {
  it('defaults every setting to the documented sandbox value', function () {
    const s = readSettings({});
    assert.strictEqual(s.port, 1880);
    assert.strictEqual(s.magentoPort, 7080);
    assert.strictEqual(s.erpPort, 7090);
    // The sandbox's own documented defaults, so `npm start` and an embedded sandbox agree.
    assert.strictEqual(s.seed, SANDBOX_DEFAULTS.seed);
    assert.strictEqual(s.orders, SANDBOX_DEFAULTS.orders);
    assert.strictEqual(s.bearerToken, SANDBOX_DEFAULTS.bearerToken);
    assert.strictEqual(s.adminUser, SANDBOX_DEFAULTS.adminUser);
    assert.strictEqual(s.adminPassword, SANDBOX_DEFAULTS.adminPassword);
    assert.deepStrictEqual(s.oauth, { ...SANDBOX_DEFAULTS.oauth });
    assert.strictEqual(s.webhookSecret, 'sandbox-webhook-secret');
    assert.strictEqual(s.webhookUrl, undefined);
    assert.strictEqual(s.fromEnv.size, 0);
  });

  it('reads every variable by its documented name', function () {
    const s = readSettings({
      PORT: '1999', SANDBOX_MAGENTO_PORT: '8080', SANDBOX_ERP_PORT: '8090', SANDBOX_SEED: '7', SANDBOX_ORDERS: '1000',
      SANDBOX_BEARER_TOKEN: 'b', SANDBOX_ADMIN_USER: 'root', SANDBOX_ADMIN_PASSWORD: ' p w ',
      SANDBOX_OAUTH_CONSUMER_KEY: 'ck', SANDBOX_OAUTH_CONSUMER_SECRET: 'cs', SANDBOX_OAUTH_ACCESS_TOKEN: 'at',
      SANDBOX_OAUTH_ACCESS_TOKEN_SECRET: 'ats', SANDBOX_WEBHOOK_URL: 'https://hooks.example.com/in', SANDBOX_WEBHOOK_SECRET: 'ws',
    });
    assert.deepStrictEqual(
      [s.port, s.magentoPort, s.erpPort, s.seed, s.orders, s.bearerToken, s.adminUser, s.adminPassword, s.webhookUrl, s.webhookSecret],
      [1999, 8080, 8090, 7, 1000, 'b', 'root', ' p w ', 'https://hooks.example.com/in', 'ws'],
    );
    assert.deepStrictEqual(s.oauth, { consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'ats' });
    assert.strictEqual(s.fromEnv.size, 14);
  });

  it('lists every problem at once, naming the variable', function () {
    assert.throws(
      () => readSettings({ PORT: '18a0', SANDBOX_MAGENTO_PORT: '70000', SANDBOX_ORDERS: '-1', SANDBOX_SEED: '1.5', SANDBOX_WEBHOOK_URL: 'ftp://x' }),
      (err) => {
        assert.ok(err instanceof SettingsError);
        assert.deepStrictEqual(err.problems, [
          'PORT must be a port number from 1 to 65535, not "18a0"',
          'SANDBOX_MAGENTO_PORT must be a port number from 1 to 65535, not "70000"',
          'SANDBOX_SEED must be an integer from 0 to 2147483647, not "1.5"',
          'SANDBOX_ORDERS must be a number of orders from 0 to 100000, not "-1"',
          'SANDBOX_WEBHOOK_URL must be an http:// or https:// URL, not "ftp://x"',
        ]);
        return true;
      },
    );
    assert.throws(() => readSettings({ PORT: '7080' }), /PORT and SANDBOX_MAGENTO_PORT are both 7080/);
  });

  it('prints demo defaults as such and hides the secrets a user set', function () {
    const lines = describeSettings(readSettings({ SANDBOX_OAUTH_CONSUMER_SECRET: 'real-secret-value', SANDBOX_SEED: '9' }), undefined).join('\n');
    assert.match(lines, /SANDBOX_OAUTH_CONSUMER_SECRET\s+set \(hidden\)/);
    assert.ok(!lines.includes('real-secret-value'));
    assert.match(lines, /SANDBOX_SEED\s+9 {2}\(from environment\)/);
    assert.match(lines, new RegExp(`SANDBOX_BEARER_TOKEN\\s+${SANDBOX_DEFAULTS.bearerToken} {2}\\(default, a public sandbox demo value\\)`));
    assert.match(lines, /SANDBOX_WEBHOOK_URL\s+\(not set: no webhooks sent\)/);
    const withHook = describeSettings(readSettings({}), 'http://127.0.0.1:1880/magento/webhook').join('\n');
    assert.match(withHook, /SANDBOX_WEBHOOK_URL\s+http:\/\/127\.0\.0\.1:1880\/magento\/webhook/);
  });
});

describe('launcher Node-RED user directory', function () {
  let dir;
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'userdir-'));
  });
  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('deploys the flow from flows/ with ${ENV} credentials and a settings file loading this package', function () {
    const root = packageRoot();
    const flow = chooseFlow(root);
    assert.ok(['magento-erp.json', 'sandbox-minimal.json'].includes(path.basename(flow.file)));
    const prepared = prepareUserDir({ userDir: dir, port: 1999, root, flow, keepFlows: false });
    assert.strictEqual(prepared.deployed, true);
    const settings = require(prepared.settingsFile);
    assert.strictEqual(settings.uiPort, 1999);
    assert.strictEqual(settings.uiHost, '127.0.0.1');
    assert.deepStrictEqual(settings.nodesDir, [root]);
    assert.strictEqual(settings.credentialSecret, false);
    // flows.json as Node-RED stores a flow: the nodes without credentials, which go to flows_cred.json.
    const deployedNodes = JSON.parse(fs.readFileSync(prepared.flowsFile, 'utf8'));
    assert.deepStrictEqual(deployedNodes, flow.nodes.map(({ credentials, ...rest }) => rest));
    const credentials = JSON.parse(fs.readFileSync(path.join(dir, 'flows_cred.json'), 'utf8'));
    for (const node of flow.nodes.filter((n) => n.type === 'magento-store-config')) {
      assert.deepStrictEqual(credentials[node.id], STORE_CREDENTIAL_ENV);
    }
    for (const node of flow.nodes.filter((n) => n.type === 'magento-webhook-in')) {
      assert.deepStrictEqual(credentials[node.id], { secret: '${WEBHOOK_SECRET}' });
    }
    for (const node of flow.nodes.filter((n) => n.credentials)) assert.deepStrictEqual(credentials[node.id], node.credentials, 'the flow file\'s own references');
    for (const values of Object.values(credentials)) {
      for (const v of Object.values(values)) assert.match(v, /^\$\{[A-Z_]+\}$/, 'a credential that is not an ${ENV} reference');
    }
  });

  it('takes the credential references a flow file carries, gives our nodes without any the standard ones, and refuses a value', function () {
    const file = path.join(dir, 'flow.json');
    const { nodes, credentials } = splitCredentials(file, [
      { id: 'hook', type: 'magento-webhook-in', url: '/hook', credentials: { secret: '${MY_HOOK_SECRET}' } },
      { id: 'exported', type: 'magento-webhook-in', url: '/other' },
      { id: 'store', type: 'magento-store-config' },
      { id: 'inject', type: 'inject' },
    ]);
    assert.deepStrictEqual(nodes, [
      { id: 'hook', type: 'magento-webhook-in', url: '/hook' },
      { id: 'exported', type: 'magento-webhook-in', url: '/other' },
      { id: 'store', type: 'magento-store-config' },
      { id: 'inject', type: 'inject' },
    ]);
    assert.deepStrictEqual(credentials, {
      hook: { secret: '${MY_HOOK_SECRET}' },
      exported: { secret: '${WEBHOOK_SECRET}' },
      store: STORE_CREDENTIAL_ENV,
    });
    assert.throws(
      () => splitCredentials(file, [{ id: 'hook', type: 'magento-webhook-in', credentials: { secret: 'whsec-literal-value' } }]),
      (err) => /flow\.json: credential "secret" of magento-webhook-in node hook must be an \$\{ENV\} reference/.test(err.message) && !err.message.includes('whsec-literal-value'),
    );
  });

  it('finds where the flow takes webhooks and ERP changes', function () {
    fs.mkdirSync(path.join(dir, 'flows'));
    const write = (nodes) => fs.writeFileSync(path.join(dir, 'flows', 'magento-erp.json'), JSON.stringify(nodes));
    write([
      { id: 'a', type: 'magento-webhook-in', url: 'magento/webhook', scheme: 'timestamp.body' },
      { id: 'b', type: 'http in', method: 'post', url: '/erp/stock' },
    ]);
    let flow = chooseFlow(dir);
    assert.deepStrictEqual([flow.webhookPath, flow.webhookSignTimestamp, flow.receivesErpChanges], ['/magento/webhook', true, true]);
    write([{ id: 'c', type: 'http in', method: 'post', url: '/magento/webhook' }, { id: 'd', type: 'http in', method: 'post', url: '/erp/stock', d: true }]);
    flow = chooseFlow(dir);
    assert.deepStrictEqual([flow.webhookPath, flow.webhookSignTimestamp, flow.receivesErpChanges], ['/magento/webhook', false, false]);
    write({ not: 'an array' });
    assert.throws(() => chooseFlow(dir), /must hold an array of nodes/);
    fs.rmSync(path.join(dir, 'flows'), { recursive: true });
    assert.throws(() => chooseFlow(dir), /No flow to deploy/);
  });

  it('keeps the flows deployed from the editor with keepFlows', function () {
    const root = packageRoot();
    const flow = chooseFlow(root);
    fs.writeFileSync(path.join(dir, 'flows.json'), '[{"id":"mine","type":"tab"}]');
    const prepared = prepareUserDir({ userDir: dir, port: 1999, root, flow, keepFlows: true });
    assert.strictEqual(prepared.deployed, false);
    assert.strictEqual(fs.readFileSync(prepared.flowsFile, 'utf8'), '[{"id":"mine","type":"tab"}]');
  });

  it('the placeholder flow carries no credential and reads its store from the environment', function () {
    const nodes = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'flows/sandbox-minimal.json'), 'utf8'));
    const store = nodes.find((n) => n.type === 'magento-store-config');
    assert.deepStrictEqual([store.baseUrl, store.storeCode, store.authType], ['${MAGENTO_URL}', '${MAGENTO_STORE_CODE}', '${MAGENTO_AUTH}']);
    assert.ok(nodes.every((n) => n.credentials === undefined));
    assert.ok(nodes.some((n) => n.type === 'comment' && /placeholder/i.test(n.name)), 'the placeholder must say so');
    // Every wire leads to a node of the flow.
    const ids = new Set(nodes.map((n) => n.id));
    for (const n of nodes) for (const out of n.wires || []) for (const target of out) assert.ok(ids.has(target), `${n.id} wired to missing ${target}`);
  });
});
