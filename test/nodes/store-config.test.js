'use strict';
const assert = require('assert');
const http = require('http');
const { once } = require('events');
const helper = require('node-red-node-test-helper');
const storeConfig = require('../../dist/nodes/store-config/store-config.js');

helper.init(require.resolve('node-red'));

describe('magento-store-config node', function () {
  let magento;
  let port;
  let handler;
  const seen = [];

  before(async function () {
    magento = http.createServer((req, res) => {
      seen.push({ url: req.url, authorization: req.headers.authorization });
      handler(req, res);
    });
    magento.listen(0, '127.0.0.1');
    await once(magento, 'listening');
    port = magento.address().port;
  });
  after(function () { magento.close(); });
  beforeEach(function (done) { seen.length = 0; helper.startServer(done); });
  afterEach(async function () {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    delete process.env.MAGENTO_TEST_PORT;
    delete process.env.MAGENTO_TEST_TOKEN;
  });

  function storeAnswers(req, res) {
    res.setHeader('Content-Type', 'application/json');
    if (req.headers.authorization !== 'Bearer good-token-0001') {
      res.statusCode = 401;
      return res.end(JSON.stringify({ message: 'The consumer isn\'t authorized to access %resources.', parameters: { resources: 'Magento_Backend::stores' } }));
    }
    if (req.url === '/rest/default/V1/store/storeConfigs') {
      return res.end(JSON.stringify([
        { id: 1, code: 'default', website_id: 1, locale: 'en_US', base_currency_code: 'EUR', timezone: 'Europe/Berlin', base_url: 'http://shop.test/', secure_base_url: 'https://shop.test/' },
        { id: 2, code: 'fr', website_id: 1, locale: 'fr_FR', base_currency_code: 'EUR', timezone: 'Europe/Paris', base_url: 'http://shop.test/fr/', secure_base_url: 'https://shop.test/fr/' },
      ]));
    }
    if (req.url === '/rest/default/V1/store/storeViews') {
      return res.end(JSON.stringify([{ id: 1, code: 'default', name: 'Default Store View' }, { id: 2, code: 'fr', name: 'French' }]));
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ message: 'Request does not match any route.' }));
  }

  it('records every call in the audit log of the user directory, without the token', async function () {
    const fs = require('fs');
    const os = require('os');
    const path = require('path');
    const { openAuditLog } = require('../../dist/lib/audit');
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-config-audit-'));
    helper.settings({ userDir });
    try {
      handler = storeAnswers;
      const flow = [{ id: 'sa', type: 'magento-store-config', name: 'audited shop', baseUrl: `http://127.0.0.1:${port}`, storeCode: 'default', authType: 'bearer', timeout: '5000', maxConcurrency: '2', requestsPerSecond: '0', rejectUnauthorized: true, maxItemsPerRequest: '20', maxPageSize: '300', maxBulkItems: '5000', audit: true, auditRetentionDays: '30' }];
      await helper.load(storeConfig, flow, { sa: { token: 'good-token-0001' } });
      const node = helper.getNode('sa');
      await node.client.request({ method: 'GET', path: '/store/storeViews', operation: 'store.views' });
      await assert.rejects(node.client.request({ method: 'GET', path: '/nowhere', operation: 'store.nowhere' }));
      await helper.unload(); // close flushes the buffered rows
      const { log, release } = openAuditLog({ directory: path.join(userDir, 'magento-erp') });
      try {
        const rows = await log.query({ store: 'audited shop' });
        assert.deepStrictEqual(rows.map((r) => [r.operation, r.status]).sort(), [['store.nowhere', 404], ['store.views', 200]]);
        assert.ok(!JSON.stringify(rows).includes('good-token-0001'), 'no token in audit rows');
      } finally {
        await release();
      }
    } finally {
      helper.settings({});
      fs.rmSync(userDir, { recursive: true, force: true });
    }
  });

  it('loads, expands ${ENV_VAR} in properties and credentials, and exposes client and settings', async function () {
    process.env.MAGENTO_TEST_PORT = String(port);
    process.env.MAGENTO_TEST_TOKEN = 'good-token-0001';
    handler = storeAnswers;
    const flow = [{ id: 's1', type: 'magento-store-config', name: 'EU shop', baseUrl: 'http://127.0.0.1:${MAGENTO_TEST_PORT}', storeCode: 'fr', authType: 'bearer', timeout: '5000', maxConcurrency: '2', requestsPerSecond: '10', rejectUnauthorized: true, maxItemsPerRequest: '', maxPageSize: '100', maxBulkItems: '5000' }];
    await helper.load(storeConfig, flow, { s1: { token: '${MAGENTO_TEST_TOKEN}' } });
    const node = helper.getNode('s1');
    assert.ok(node.client, 'client exposed');
    assert.strictEqual(node.settings.baseUrl, `http://127.0.0.1:${port}`);
    assert.strictEqual(node.settings.storeCode, 'fr');
    assert.strictEqual(node.settings.maxConcurrency, 2);
    assert.strictEqual(node.settings.requestsPerSecond, 10);
    assert.deepStrictEqual(node.settings.limits, { maxItemsPerRequest: 20, maxPageSize: 100, maxBulkItems: 5000 });
    assert.ok(!Object.keys(node).includes('settings') && !Object.keys(node).includes('client'), 'not enumerable');
    const views = await node.client.request({ method: 'GET', path: '/store/storeConfigs', storeCode: 'default' });
    assert.strictEqual(views.length, 2);
    assert.strictEqual(seen[0].authorization, 'Bearer good-token-0001');
    const client = node.client;
    await helper.unload();
    await assert.rejects(client.request({ method: 'GET', path: '/store/storeConfigs' }), (e) => e.reason === 'closed');
  });

  it('a bad config does not crash: configError names the field, the secret stays out of the log', async function () {
    const flow = [{ id: 's2', type: 'magento-store-config', name: 'broken', baseUrl: 'https://${MAGENTO_TEST_UNSET_HOST}', authType: 'bearer' }];
    await helper.load(storeConfig, flow, { s2: { token: 'leaky-token-0001' } });
    const node = helper.getNode('s2');
    assert.strictEqual(node.client, undefined);
    assert.strictEqual(node.configError.field, 'baseUrl');
    assert.match(node.configError.message, /MAGENTO_TEST_UNSET_HOST is not set/);
    const entries = helper.log().args.map((a) => a[0]);
    assert.ok(entries.some((e) => e.id === 's2' && e.level === helper.log().ERROR), 'the error is logged against the node');
    assert.ok(!JSON.stringify(entries).includes('leaky-token-0001'));
    const catalog = require('../../dist/nodes/store-config/locales/en-US/store-config.json');
    assert.match(catalog['magento-store-config'].errors.invalid, /__reason__/);
  });

  it('Test connection with the deployed credentials (form sends __PWRD__) shows the store views', async function () {
    handler = storeAnswers;
    const flow = [{ id: 's3', type: 'magento-store-config', name: 'EU', baseUrl: `http://127.0.0.1:${port}`, storeCode: 'fr', authType: 'bearer' }];
    await helper.load(storeConfig, flow, { s3: { token: 'good-token-0001' } });
    const res = await helper.request().post('/magento-store-config/s3/test')
      .send({ config: { name: 'EU', baseUrl: `http://127.0.0.1:${port}`, storeCode: 'fr', authType: 'bearer', timeout: '5000' }, credentials: { token: '__PWRD__' } })
      .expect(200);
    assert.strictEqual(res.body.ok, true, JSON.stringify(res.body));
    assert.strictEqual(res.body.storeCodeFound, true);
    assert.deepStrictEqual(res.body.stores.map((s) => [s.code, s.name, s.secureBaseUrl]), [['default', 'Default Store View', 'https://shop.test/'], ['fr', 'French', 'https://shop.test/fr/']]);
    assert.strictEqual(res.body.store.authType, 'bearer');
    assert.ok(!JSON.stringify(res.body).includes('good-token-0001'));
  });

  it('Test connection with unsaved values reports a 401 with the 2.4.4 Bearer hint and no token', async function () {
    handler = storeAnswers;
    const res = await helper.request().post('/magento-store-config/new-node-id/test')
      .send({ config: { baseUrl: `http://127.0.0.1:${port}`, storeCode: 'default', authType: 'bearer' }, credentials: { token: 'wrong-token-0001' } })
      .expect(200);
    assert.strictEqual(res.body.ok, false);
    assert.strictEqual(res.body.error.errorClass, 'auth');
    assert.strictEqual(res.body.error.status, 401);
    assert.strictEqual(res.body.error.reason, 'integration-bearer-refused');
    assert.match(res.body.error.message, /enable_integration_as_bearer/);
    assert.match(res.body.error.message, /Magento_Backend::stores/);
    assert.ok(!JSON.stringify(res.body).includes('wrong-token-0001'));
  });

  it('Test connection names a missing secret and a wrong address', async function () {
    const missing = await helper.request().post('/magento-store-config/other/test')
      .send({ config: { baseUrl: `http://127.0.0.1:${port}`, authType: 'oauth1' }, credentials: { consumerKey: 'k', consumerSecret: '__PWRD__' } })
      .expect(200);
    assert.strictEqual(missing.body.ok, false);
    assert.strictEqual(missing.body.error.field, 'credentials.consumerSecret');
    const dead = http.createServer();
    dead.listen(0, '127.0.0.1');
    await once(dead, 'listening');
    const deadPort = dead.address().port;
    await new Promise((r) => dead.close(r));
    const refused = await helper.request().post('/magento-store-config/other/test')
      .send({ config: { baseUrl: `http://127.0.0.1:${deadPort}`, authType: 'none' }, credentials: {} })
      .expect(200);
    assert.strictEqual(refused.body.ok, false);
    assert.strictEqual(refused.body.error.reason, 'connection-refused');
  });
});

// The editor half: the real Node-RED editor in headless Chromium (skipped where no Chromium is installed).
describe('magento-store-config editor', function () {
  const fs = require('fs');
  const os = require('os');
  const path = require('path');
  const { spawn } = require('child_process');
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => fs.existsSync(p));
  let magento;
  let redProcess;
  let editorUrl;
  let browser;
  let userDir;
  let adminToken;
  const bcrypt = require('bcryptjs');

  async function tokenFor(username, password, scope = '*') {
    const res = await fetch(editorUrl + 'auth/token', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password }),
    });
    assert.strictEqual(res.status, 200, await res.clone().text());
    return (await res.json()).access_token;
  }

  before(async function () {
    if (!chromium) this.skip();
    this.timeout(60000);
    magento = http.createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      if (req.headers.authorization !== 'Bearer good-token-0001') {
        res.statusCode = 401;
        return res.end(JSON.stringify({ message: 'The consumer isn\'t authorized to access %resources.', parameters: { resources: 'Magento_Backend::stores' } }));
      }
      if (req.url.endsWith('/V1/store/storeConfigs')) return res.end(JSON.stringify([{ id: 1, code: 'default', base_url: 'http://shop.test/' }, { id: 2, code: 'fr', base_url: 'http://shop.test/fr/' }]));
      if (req.url.endsWith('/V1/store/storeViews')) return res.end(JSON.stringify([{ id: 1, code: 'default', name: 'Default Store View' }, { id: 2, code: 'fr', name: 'French' }]));
      res.statusCode = 404;
      res.end('{"message":"Request does not match any route."}');
    });
    magento.listen(0, '127.0.0.1');
    await once(magento, 'listening');
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'magento-store-config-editor-'));
    fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = ${JSON.stringify({
      uiHost: '127.0.0.1', flowFile: 'flows.json', credentialSecret: false, editorTheme: { tours: false }, telemetry: { enabled: false },
      adminAuth: {
        type: 'credentials',
        users: [
          { username: 'admin', password: bcrypt.hashSync('admin-pass', 4), permissions: '*' },
          { username: 'viewer', password: bcrypt.hashSync('viewer-pass', 4), permissions: 'read' },
        ],
      },
      logging: { console: { level: 'info' } },
    })};\n`);
    // Installed the way a user installs a pack (a module under userDir/node_modules), holding only this
    // node: Node-RED treats nodesDir files as core nodes and would not load their message catalog.
    const pkgDir = path.join(userDir, 'node_modules', 'magento-store-config-under-test');
    fs.mkdirSync(pkgDir, { recursive: true });
    fs.writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({
      name: 'magento-store-config-under-test', version: '0.0.0', keywords: ['node-red'],
      'node-red': { nodes: { 'magento-store-config': 'dist/nodes/store-config/store-config.js' } },
    }));
    fs.symlinkSync(path.resolve(__dirname, '../../dist'), path.join(pkgDir, 'dist'), 'dir');
    redProcess = spawn(process.execPath, [require.resolve('node-red/red.js'), '-u', userDir, '-p', '0', '-s', path.join(userDir, 'settings.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
    editorUrl = await new Promise((resolve, reject) => {
      let out = '';
      const onData = (chunk) => {
        out += chunk;
        const m = /Server now running at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) { redProcess.stdout.off('data', onData); resolve(m[1]); }
      };
      redProcess.stdout.on('data', onData);
      redProcess.on('exit', (code) => reject(new Error(`node-red exited (${code}): ${out}`)));
    });
    redProcess.stdout.resume();
    redProcess.stderr.resume();
    const flows = [{ id: 's1', type: 'magento-store-config', name: 'EU', baseUrl: `http://127.0.0.1:${magento.address().port}`, storeCode: 'fr', authType: 'bearer', timeout: '5000', maxConcurrency: '4', requestsPerSecond: '0', rejectUnauthorized: true, maxItemsPerRequest: '20', maxPageSize: '300', maxBulkItems: '5000', credentials: { token: 'good-token-0001' } }];
    adminToken = await tokenFor('admin', 'admin-pass');
    const res = await fetch(editorUrl + 'flows', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full', Authorization: `Bearer ${adminToken}` }, body: JSON.stringify(flows) });
    assert.strictEqual(res.status, 204, await res.text());
    const { chromium: pw } = require('playwright-core');
    browser = await pw.launch({ executablePath: chromium, args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--no-first-run', '--disable-sync'] });
  });

  after(async function () {
    if (browser) await browser.close();
    if (redProcess && redProcess.exitCode === null) {
      redProcess.kill('SIGTERM');
      await once(redProcess, 'exit');
    }
    if (magento) magento.close();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('guards the Test connection route with magento-store-config.write', async function () {
    const body = JSON.stringify({ config: {}, credentials: {} });
    const headers = { 'Content-Type': 'application/json' };
    const anonymous = await fetch(editorUrl + 'magento-store-config/s1/test', { method: 'POST', headers, body });
    assert.strictEqual(anonymous.status, 401);
    const viewer = await tokenFor('viewer', 'viewer-pass', 'read');
    const readOnly = await fetch(editorUrl + 'magento-store-config/s1/test', { method: 'POST', headers: { ...headers, Authorization: `Bearer ${viewer}` }, body });
    assert.strictEqual(readOnly.status, 401);
    const admin = await fetch(editorUrl + 'magento-store-config/s1/test', { method: 'POST', headers: { ...headers, Authorization: `Bearer ${adminToken}` }, body });
    assert.strictEqual(admin.status, 200);
    const answer = await admin.json();
    assert.strictEqual(answer.ok, true, 'an empty form tests the deployed node as saved');
  });

  it('shows the auth choices in words and tests the connection with the saved and with a typed token', async function () {
    this.timeout(60000);
    const page = await browser.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(editorUrl + '?access_token=' + adminToken);
    await page.waitForFunction(() => window.RED && RED.nodes && RED.nodes.node && RED.nodes.node('s1'), null, { timeout: 30000 });
    await page.evaluate(() => RED.editor.editConfig('', 'magento-store-config', 's1'));
    await page.waitForSelector('#magento-store-config-test', { state: 'visible' });
    const options = await page.$$eval('#node-config-input-authType option', (os) => os.map((o) => [o.value, o.textContent]));
    assert.deepStrictEqual(options.map((o) => o[0]), ['oauth1', 'bearer', 'admin', 'none']);
    assert.strictEqual(options[0][1], 'Integration (OAuth 1.0a)');
    assert.strictEqual(await page.$eval('#node-config-input-authType', (s) => s.value), 'bearer');
    assert.ok(await page.isVisible('#node-config-input-token'));
    assert.ok(!(await page.isVisible('#node-config-input-consumerSecret')));
    assert.strictEqual(await page.$eval('#node-config-input-token', (i) => i.value), '__PWRD__', 'the saved token never reaches the browser');

    await page.click('#magento-store-config-test');
    await page.waitForSelector('#magento-store-config-test-result.magento-ok', { timeout: 15000 });
    const okText = await page.textContent('#magento-store-config-test-result');
    assert.match(okText, /fr \(French\)/);

    await page.fill('#node-config-input-token', 'typed-wrong-token');
    await page.click('#magento-store-config-test');
    await page.waitForSelector('#magento-store-config-test-result.magento-fail', { timeout: 15000 });
    const failText = await page.textContent('#magento-store-config-test-result');
    assert.match(failText, /enable_integration_as_bearer/);
    assert.ok(!failText.includes('typed-wrong-token'));
    assert.deepStrictEqual(pageErrors, []);
    await page.close();
  });
});
