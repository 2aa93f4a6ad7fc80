'use strict';
/**
 * The Node-RED editor with our package, in headless Chromium: palette, edit dialogs (valid and invalid
 * input), help, the store's Test connection against the Magento sandbox, importing the examples, and the
 * full flow as `npm start` deploys it. One Node-RED process (the launcher's helpers, via the examples'
 * test stack: sandbox and demo ERP in this process) and one browser for the whole file.
 *
 * Screenshots go to docs/ with UPDATE_SCREENSHOTS=1 (`UPDATE_SCREENSHOTS=1 npx mocha test/editor/`),
 * otherwise to a temporary directory, so `npm test` leaves the checkout as it was.
 */
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');

const S = require('../e2e/examples-support.js');
const E = require('./editor-support.js');
const { STORE_CREDENTIAL_ENV, chooseFlow } = require('../../dist/sandbox/launcher/node-red.js');

const TYPES = Object.keys(S.PACKAGE['node-red'].nodes);
const FOLDER = (type) => type.replace(/^magento-/, '');
const HTML = (type) => path.join(S.ROOT, 'nodes', FOLDER(type), FOLDER(type) + '.html');
const TAB = 'editor-tests-tab';
const STORE = 'editor-tests-store';

/**
 * For each node: a field its dialog validates, a value it must refuse and one it must keep, and — where
 * the validator gives one — the reason shown. `STORE` is the store config deployed before the editor opens.
 */
const FIELDS = {
  'magento-read-orders': { field: 'pageSize', invalid: '500', valid: '200', reason: /a whole number from 1 to 300, or empty/ },
  'magento-map-order': { field: 'totalsTolerance', invalid: '-1', valid: '0.05', reason: /tolerance must be a number ≥ 0/ },
  'magento-push-inventory': { field: 'defaultSource', invalid: '', valid: 'warehouse_a' },
  'magento-push-price': { field: 'defaultStoreId', invalid: '-1', valid: '1', reason: /a whole number, 0 or more, or empty for the default/ },
  'magento-push-product': { field: 'websiteIds', invalid: '1;2', valid: '1,2', reason: /website ids separated by commas, e\.g\. 1 or 1,2 \(empty = Magento's choice\)/ },
  'magento-push-shipment': { field: 'store', invalid: '_ADD_', valid: STORE },
  'magento-order-update': { field: 'store', invalid: '_ADD_', valid: STORE },
  'magento-webhook-in': { field: 'url', invalid: '', valid: '/magento/orders' },
  'magento-idempotency-gate': { field: 'keySpace', invalid: 'orders and more', valid: 'orders', reason: /a key space: letters, digits, \. _ - \(at most 100\), or empty for this node's id/ },
  'magento-retry-queue': { field: 'maxAttempts', invalid: 'eight', valid: '5', reason: /a whole number of 1 or more, or empty/ },
  'magento-erp-request': { field: 'path', invalid: 'orders', valid: '/v2/orders', reason: /a path starting with \// },
};

/** The deployed store: the sandbox through the same ${ENV} references `npm start` uses. */
function storeFlow() {
  return [
    { id: TAB, type: 'tab', label: 'Editor tests', disabled: false, info: '' },
    {
      id: STORE, type: 'magento-store-config', name: 'Sandbox', baseUrl: '${MAGENTO_URL}', storeCode: 'default', authType: 'oauth1',
      timeout: '30000', maxConcurrency: '4', requestsPerSecond: '0', rejectUnauthorized: true, maxItemsPerRequest: '20',
      maxPageSize: '300', maxBulkItems: '5000', audit: false, auditRetentionDays: '30',
      credentials: {
        consumerKey: STORE_CREDENTIAL_ENV.consumerKey, consumerSecret: STORE_CREDENTIAL_ENV.consumerSecret,
        accessToken: STORE_CREDENTIAL_ENV.accessToken, accessTokenSecret: STORE_CREDENTIAL_ENV.accessTokenSecret,
      },
    },
  ];
}

describe('Node-RED editor in Chromium', function () {
  this.timeout(60000);
  let stack;
  let browser;
  let shotsDir;

  before(async function () {
    if (!E.chromiumInstalled()) {
      // mocha shows no reason for a skip: say it once.
      console.log(`      (skipped: ${E.CHROMIUM} is not installed — Debian package "chromium"; the editor tests need a real browser)`);
      this.skip();
    }
    this.timeout(180000);
    stack = await S.startStack();
    await S.deploy(stack, storeFlow());
    browser = await E.launchBrowser(stack.nodeRedUrl);
    shotsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'magento-erp-screenshots-'));
  });

  after(async function () {
    this.timeout(60000);
    if (browser) await browser.close();
    if (stack) await stack.stop();
    if (shotsDir) fs.rmSync(shotsDir, { recursive: true, force: true });
  });

  it('has a spec row for every node of package.json', function () {
    const nodes = TYPES.filter((t) => t !== 'magento-store-config');
    assert.deepStrictEqual(Object.keys(FIELDS).sort(), nodes.sort(), 'add the new node to FIELDS: which field its dialog validates');
  });

  it('shows every node in the palette under one category "magento" with its icon and label; the store config in the config sidebar', async function () {
    const page = await E.openEditor(browser.context, stack.nodeRedUrl);
    try {
      const defs = await page.evaluate((types) => types.map((t) => {
        const d = RED.nodes.getType(t);
        return d && { type: t, category: d.category, icon: d.icon, paletteLabel: d.paletteLabel, color: d.color };
      }), TYPES);
      for (const [i, def] of defs.entries()) assert.ok(def, `${TYPES[i]} is not registered in the editor`);

      const palette = await page.evaluate(() => [...document.querySelectorAll('#red-ui-palette .red-ui-palette-node[data-palette-type]')]
        .filter((el) => /^magento-/.test(el.getAttribute('data-palette-type')))
        .map((el) => {
          const icon = el.querySelector('.red-ui-palette-icon-container');
          const fa = el.querySelector('.red-ui-palette-icon-container i.fa');
          return {
            type: el.getAttribute('data-palette-type'),
            category: el.closest('.red-ui-palette-category').id,
            label: el.getAttribute('data-palette-label'),
            text: el.querySelector('.red-ui-palette-label').textContent,
            icon: icon && icon.getAttribute('data-palette-icon'),
            iconClass: fa ? fa.className : '',
            background: getComputedStyle(el).backgroundColor,
          };
        }));
      const flowTypes = defs.filter((d) => d.category !== 'config');
      assert.deepStrictEqual(palette.map((p) => p.type).sort(), flowTypes.map((d) => d.type).sort(), 'each node once in the palette');
      for (const p of palette) {
        const def = flowTypes.find((d) => d.type === p.type);
        assert.strictEqual(p.category, 'red-ui-palette-container-magento', `${p.type} in the magento category`);
        assert.strictEqual(def.category, 'magento');
        assert.strictEqual(p.label, FOLDER(p.type), `${p.type} labelled with its folder name`);
        // The palette breaks long labels at hyphens: the words shown, joined, are the label.
        assert.strictEqual(p.text.replace(/\s+/g, ''), FOLDER(p.type));
        assert.match(def.icon, /^font-awesome\/fa-[a-z-]+$/, `${p.type} has a font-awesome icon`);
        assert.strictEqual(p.icon, def.icon);
        assert.ok(p.iconClass.split(/\s+/).includes(def.icon.replace('font-awesome/', '')), `${p.type} draws ${def.icon}: ${p.iconClass}`);
        assert.strictEqual(p.background, 'rgb(244, 111, 37)', `${p.type} in the pack's color #F46F25`);
      }
      const magentoCategory = await page.$$eval('#red-ui-palette-container-magento .red-ui-palette-node', (els) => els.map((el) => el.getAttribute('data-palette-type')));
      assert.deepStrictEqual(magentoCategory.sort(), flowTypes.map((d) => d.type).sort(), 'the magento category holds exactly our nodes');

      // Config nodes are not in the palette: the deployed store config is listed in the Configuration nodes sidebar.
      const configTypes = defs.filter((d) => d.category === 'config').map((d) => d.type);
      assert.deepStrictEqual(configTypes, ['magento-store-config']);
      await page.evaluate(() => RED.sidebar.show('config'));
      const entry = page.locator('#red-ui-sidebar-content .red-ui-palette-node-config').filter({ hasText: 'Sandbox' });
      await entry.waitFor({ state: 'visible' });
      assert.strictEqual(await entry.evaluate((el) => el.closest('ul').querySelector('.red-ui-palette-node-config-type').textContent), 'magento-store-config');
      assert.ok(!(await entry.evaluate((el) => el.classList.contains('red-ui-palette-node-config-invalid'))), 'the deployed store config is valid');
      const configIcon = await page.evaluate((type) => RED.nodes.getType(type).icon, 'magento-store-config');
      assert.match(configIcon, /^font-awesome\/fa-[a-z-]+$/);

      // docs/palette.png: the palette with only the magento category open.
      await page.evaluate(() => RED.sidebar.show('info'));
      await page.evaluate(() => {
        for (const header of document.querySelectorAll('#red-ui-palette .red-ui-palette-header')) {
          const category = header.closest('.red-ui-palette-category');
          const open = header.querySelector('i.expanded') !== null;
          if ((category.id === 'red-ui-palette-container-magento') !== open) header.click();
        }
      });
      await page.waitForFunction(() => {
        const contents = [...document.querySelectorAll('#red-ui-palette .red-ui-palette-category')].filter((c) => c.id.startsWith('red-ui-palette-container-'));
        return contents.every((c) => {
          const content = c.querySelector('.red-ui-palette-content');
          const shown = content && content.offsetHeight > 0 && getComputedStyle(content).display !== 'none';
          return shown === (c.id === 'red-ui-palette-container-magento');
        });
      });
      await page.locator('#red-ui-palette').screenshot({ path: E.screenshotPath(S.ROOT, shotsDir, 'palette.png') });
      assert.deepStrictEqual(page.pageErrors, []);
    } finally {
      await page.close();
    }
  });

  describe('edit dialogs', function () {
    let page;
    let slot = 0;
    const place = () => {
      const i = slot++;
      return { x: 120 + (i % 4) * 220, y: 60 + Math.floor(i / 4) * 110 };
    };

    before(async function () {
      if (!browser) this.skip();
      page = await E.openEditor(browser.context, stack.nodeRedUrl);
      await page.evaluate((tab) => RED.workspaces.show(tab), TAB);
    });
    after(async function () {
      if (page) await page.close();
    });
    afterEach(async function () {
      if (!page) return;
      await E.closeTrays(page);
      assert.deepStrictEqual(page.pageErrors, [], 'no script error in the editor');
    });

    for (const type of Object.keys(FIELDS)) {
      const spec = FIELDS[type];
      it(`${FOLDER(type)}: opens, shows its help, refuses ${spec.field} "${spec.invalid}" with a visible reason and saves "${spec.valid}"`, async function () {
        const selector = `#node-input-${spec.field}`;
        const id = await E.dropFromPalette(page, type, place());
        await E.openEditDialog(page, id);
        assert.strictEqual((await page.locator('.red-ui-tray-titlebar').last().innerText()).trim(), `Edit ${FOLDER(type)} node`);

        const help = await E.helpFromDialog(page, FOLDER(type));
        const file = E.helpOfFile(HTML(type), type);
        assert.ok(help.visible, 'the help sidebar is shown');
        assert.strictEqual(help.paragraphs[0], file.firstParagraph, 'the help starts with the first paragraph of the node\'s help');
        for (const h of file.headings) assert.ok(help.headings.includes(h), `help section "${h}" shown (${help.headings.join(', ')})`);
        assert.ok(help.messageProperties > 0, 'inputs/outputs as message properties');

        // Only the field under test is wrong: the store (where the node has one) is the deployed one.
        if (spec.field !== 'store' && (await page.locator('#node-input-store').count())) await E.setField(page, '#node-input-store', STORE);

        // Invalid: the field turns red while editing, and stays refused after Done with the red triangle.
        await E.setField(page, selector, spec.invalid);
        await page.waitForSelector(`${selector}.input-error`);
        if (spec.reason) assert.match(await E.fieldTooltip(page, selector), spec.reason);
        await E.closeEditDialog(page);
        const refused = await E.nodeState(page, id);
        assert.strictEqual(refused.valid, false, `${type} with ${spec.field}=${JSON.stringify(spec.invalid)} is invalid`);
        const named = refused.validationErrors.join(' | ');
        assert.strictEqual(refused.validationErrors.length, 1, `only ${spec.field} is refused: ${named}`);
        assert.ok(spec.reason ? spec.reason.test(named) : named === spec.field, `the validation error names the field or the reason: ${named}`);
        const badge = await E.errorBadge(page, id);
        assert.ok(badge, 'the node shows the red triangle');
        assert.match(badge, /Invalid properties/);
        assert.ok(spec.reason ? spec.reason.test(badge) : badge.includes(spec.field), `the triangle's tooltip gives the reason: ${badge}`);

        // Valid: the mark goes, Done keeps the value and the triangle goes.
        await E.openEditDialog(page, id);
        await page.waitForSelector(`${selector}.input-error`);
        await E.setField(page, selector, spec.valid);
        await page.waitForSelector(`${selector}:not(.input-error)`);
        await E.closeEditDialog(page);
        const saved = await E.nodeState(page, id);
        assert.deepStrictEqual(saved.validationErrors, []);
        assert.strictEqual(saved.valid, true);
        assert.strictEqual(await page.evaluate(({ n, f }) => String(RED.nodes.node(n)[f]), { n: id, f: spec.field }), spec.valid);
        assert.strictEqual(await E.errorBadge(page, id), null, 'no red triangle once valid');
      });
    }

    it('webhook-in: "a port of its own" shows Port and Interface, needs a port in range and an answer by this node', async function () {
      const id = await E.dropFromPalette(page, 'magento-webhook-in', place());
      await E.openEditDialog(page, id);
      const portRow = page.locator('#node-input-port').locator('xpath=..');
      assert.strictEqual(await portRow.isVisible(), false, 'no port on Node-RED\'s own server');
      await page.selectOption('#node-input-listen', 'port');
      await portRow.waitFor({ state: 'visible' });
      assert.ok(await page.locator('#node-input-host').isVisible());
      // HTTPS: the TLS configuration row shows only while ticked.
      const tlsRow = page.locator('.magento-webhook-in-tls');
      assert.strictEqual(await tlsRow.isVisible(), false);
      await page.check('#node-input-usetls');
      await tlsRow.waitFor({ state: 'visible' });
      await page.uncheck('#node-input-usetls');
      await tlsRow.waitFor({ state: 'hidden' });
      // Empty port: refused while editing and after Done, with the reason.
      await page.waitForSelector('#node-input-port.input-error');
      assert.match(await E.fieldTooltip(page, '#node-input-port'), /a whole number from 1 to 65535/);
      await E.closeEditDialog(page);
      let state = await E.nodeState(page, id);
      assert.strictEqual(state.valid, false);
      assert.strictEqual(state.validationErrors.length, 1, state.validationErrors.join(' | '));
      assert.match(state.validationErrors[0], /a whole number from 1 to 65535/);

      await E.openEditDialog(page, id);
      await E.setField(page, '#node-input-port', '70000');
      await page.waitForSelector('#node-input-port.input-error');
      await E.setField(page, '#node-input-port', '8081');
      await page.waitForSelector('#node-input-port:not(.input-error)');
      // An http response node cannot answer on the own port.
      await page.selectOption('#node-input-respond', 'flow');
      await page.waitForSelector('#node-input-respond.input-error');
      assert.match(await E.fieldTooltip(page, '#node-input-respond'), /answering from the flow needs Node-RED's HTTP server/);
      // Back on Node-RED's server the same answer is fine, and the port no longer matters.
      await page.selectOption('#node-input-listen', 'node-red');
      await page.waitForSelector('#node-input-respond:not(.input-error)');
      await page.selectOption('#node-input-listen', 'port');
      await page.selectOption('#node-input-respond', 'accept');
      await E.closeEditDialog(page);
      state = await E.nodeState(page, id);
      assert.deepStrictEqual(state.validationErrors, []);
      assert.deepStrictEqual(await page.evaluate((n) => { const x = RED.nodes.node(n); return [x.listen, x.port, x.host, x.respond]; }, id), ['port', '8081', '', 'accept']);
    });

    it('webhook-in: the Redis store shows its URL and "Others\' events after" (minutes, more than 0)', async function () {
      const id = await E.dropFromPalette(page, 'magento-webhook-in', place());
      await E.openEditDialog(page, id);
      const row = page.locator('#node-input-strandedMinutes').locator('xpath=..');
      assert.strictEqual(await row.isVisible(), false, 'only for a journal instances share');
      await page.selectOption('#node-input-storeKind', 'redis');
      await row.waitFor({ state: 'visible' });
      assert.ok(await page.locator('#node-input-redisUrl').isVisible());
      assert.strictEqual(await page.inputValue('#node-input-strandedMinutes'), '10');
      await E.setField(page, '#node-input-strandedMinutes', '0');
      await page.waitForSelector('#node-input-strandedMinutes.input-error');
      assert.match(await E.fieldTooltip(page, '#node-input-strandedMinutes'), /a number of minutes, more than 0/);
      await E.setField(page, '#node-input-strandedMinutes', '15');
      await page.waitForSelector('#node-input-strandedMinutes:not(.input-error)');
      await E.closeEditDialog(page);
      assert.deepStrictEqual(await page.evaluate((n) => { const x = RED.nodes.node(n); return [x.storeKind, x.strandedMinutes]; }, id), ['redis', '15']);
    });

    it('store-config (added from a node\'s Store field): shows its help, refuses a URL without scheme, tests the connection against the sandbox and fails clearly with a wrong token', async function () {
      const c = stack.magento.credentials;
      const id = await E.dropFromPalette(page, 'magento-push-price', place());
      await E.openEditDialog(page, id);
      await page.click('#node-input-btn-store-add');
      await page.locator('#node-config-dialog-ok').waitFor({ state: 'visible' });
      assert.match((await page.locator('.red-ui-tray-titlebar').last().innerText()).trim(), /store config/);

      const help = await E.helpFromDialog(page, 'store config');
      const file = E.helpOfFile(HTML('magento-store-config'), 'magento-store-config');
      assert.strictEqual(help.paragraphs[0], file.firstParagraph);
      for (const h of file.headings) assert.ok(help.headings.includes(h), `help section "${h}" shown (${help.headings.join(', ')})`);

      await E.setField(page, '#node-config-input-name', 'Sandbox (typed)');
      await E.setField(page, '#node-config-input-baseUrl', stack.magento.url.replace(/^https?:\/\//, ''));
      await page.waitForSelector('#node-config-input-baseUrl.input-error');
      assert.match(await E.fieldTooltip(page, '#node-config-input-baseUrl'), /an http\(s\) URL \(e\.g\. https:\/\/shop\.example\.com\) or a \$\{NAME\} reference/);
      await E.setField(page, '#node-config-input-baseUrl', stack.magento.url);
      await page.waitForSelector('#node-config-input-baseUrl:not(.input-error)');
      assert.strictEqual(await page.inputValue('#node-config-input-authType'), 'oauth1', 'OAuth 1.0a is the default');
      await E.setField(page, '#node-config-input-consumerKey', c.oauth.consumerKey);
      await E.setField(page, '#node-config-input-consumerSecret', c.oauth.consumerSecret);
      await E.setField(page, '#node-config-input-accessToken', c.oauth.accessToken);
      await E.setField(page, '#node-config-input-accessTokenSecret', c.oauth.accessTokenSecret);

      // Success: the sandbox's own store views, asked for with the values typed (not yet deployed).
      const result = page.locator('#magento-store-config-test-result');
      await page.click('#magento-store-config-test');
      await page.waitForSelector('#magento-store-config-test-result.magento-ok, #magento-store-config-test-result.magento-fail');
      const ok = await result.innerText();
      assert.ok(await result.evaluate((el) => el.classList.contains('magento-ok')), ok);
      assert.match(ok, /Connected in \d+ ms/);
      assert.match(ok, /default \(Default Store View\)/);
      assert.match(ok, /fr \(French Store View\)/);

      // A wrong access token: Magento's 401 and what to check, without any secret.
      await E.setField(page, '#node-config-input-accessToken', 'wrong-access-token-000');
      await page.click('#magento-store-config-test');
      await page.waitForSelector('#magento-store-config-test-result.magento-fail');
      const failed = await result.innerText();
      assert.match(failed, /Connection failed \(auth\)/);
      assert.match(failed, /401/);
      assert.match(failed, /Check the four OAuth values/);
      for (const secret of ['wrong-access-token-000', c.oauth.consumerSecret, c.oauth.accessTokenSecret]) assert.ok(!failed.includes(secret), 'no secret in the answer');

      // Fixed, added: the node now points at the new store and both are valid.
      await E.setField(page, '#node-config-input-accessToken', c.oauth.accessToken);
      await page.click('#node-config-dialog-ok');
      await page.locator('#node-config-dialog-ok').waitFor({ state: 'detached' });
      const storeId = await page.inputValue('#node-input-store');
      assert.notStrictEqual(storeId, '_ADD_');
      assert.notStrictEqual(storeId, STORE);
      await E.closeEditDialog(page);
      const store = await page.evaluate((sid) => {
        const n = RED.nodes.node(sid);
        return { type: n.type, name: n.name, baseUrl: n.baseUrl, valid: n.valid, users: n.users.map((u) => u.id) };
      }, storeId);
      assert.deepStrictEqual(store, { type: 'magento-store-config', name: 'Sandbox (typed)', baseUrl: stack.magento.url, valid: true, users: [id] });
      assert.strictEqual((await E.nodeState(page, id)).valid, true);
      assert.strictEqual(await E.errorBadge(page, id), null);
    });

    it('map-order: its lookup tables (payment methods, shipping methods, order statuses) render, take rows, apply the preset, refuse "use the default" without one, save and come back', async function () {
      const TABLES = [
        { name: 'payment', property: 'paymentMethods', label: 'Payment methods', rows: [{ from: 'checkmo', to: 'INVOICE' }, { from: 'cashondelivery', to: 'COD' }] },
        { name: 'shipping', property: 'shippingMethods', label: 'Shipping methods', rows: [{ from: 'flatrate_flatrate', to: 'DHL' }] },
        { name: 'status', property: 'statuses', label: 'Order statuses', rows: [{ from: 'processing', to: 'OPEN' }, { from: 'holded', to: 'HOLD' }] },
      ];
      const REASON = /A default ERP code is required when unknown codes use the default/;
      const id = await E.dropFromPalette(page, 'magento-map-order', place());
      const list = (t) => page.locator('.red-ui-editableList', { has: page.locator(`#node-input-${t.name}-table`) });
      const rowsShown = (t) => page.$$eval(`#node-input-${t.name}-table > li`, (lis) => lis.map((li) => ({
        from: li.querySelector('.map-order-from').value, to: li.querySelector('.map-order-to').value,
      })));
      const saved = () => page.evaluate((nodeId) => {
        const n = RED.nodes.node(nodeId);
        return {
          paymentMethods: n.paymentMethods, shippingMethods: n.shippingMethods, statuses: n.statuses,
          unknown: [n.paymentUnknown, n.shippingUnknown, n.statusUnknown], defaults: [n.paymentDefault, n.shippingDefault, n.statusDefault],
          valid: n.valid, validationErrors: n.validationErrors || [],
        };
      }, id);
      await E.openEditDialog(page, id);

      // Under "Lookup tables", in this order, each with its label, an empty list and the unknown-code choice.
      assert.deepStrictEqual(await page.$$eval('.red-ui-tray ol[id$="-table"]', (ols) => ols.map((ol) => ol.id)),
        TABLES.map((t) => `node-input-${t.name}-table`));
      for (const t of TABLES) {
        const heading = page.locator('.form-row', { has: page.locator(`#node-input-${t.name}-table`) }).locator('label').first();
        assert.strictEqual((await heading.innerText()).trim(), t.label);
        assert.deepStrictEqual(await rowsShown(t), [], `${t.name}: a new node has no rows`);
        assert.strictEqual((await page.locator(`label[for="node-input-${t.name}Unknown"]`).innerText()).trim(), 'Unknown code');
        assert.deepStrictEqual(await page.$$eval(`#node-input-${t.name}Unknown option`, (os) => os.map((o) => [o.value, o.textContent])),
          [['passthrough', 'pass the Magento code through'], ['default', 'use the default'], ['error', 'reject the order']]);
        assert.strictEqual(await page.inputValue(`#node-input-${t.name}Unknown`), 'passthrough');
        assert.strictEqual(await page.locator(`#node-input-${t.name}Default`).getAttribute('placeholder'), 'ERP code');
        assert.ok(!(await page.locator(`#node-input-${t.name}Default`).isVisible()), `${t.name}: the default is hidden until "use the default" is chosen`);
      }

      // The preset sets the payment and shipping choices (not the statuses').
      await E.setField(page, '#node-input-preset', 'strict');
      await page.click('#map-order-apply-preset');
      assert.deepStrictEqual(await Promise.all(TABLES.map((t) => page.inputValue(`#node-input-${t.name}Unknown`))), ['error', 'error', 'passthrough']);

      for (const t of TABLES) {
        for (const r of t.rows) {
          await list(t).locator('.red-ui-editableList-addButton').click();
          const item = page.locator(`#node-input-${t.name}-table > li`).last();
          await item.locator('.map-order-from').fill(r.from);
          await item.locator('.map-order-to').fill(r.to);
        }
        // A row left empty is not saved.
        await list(t).locator('.red-ui-editableList-addButton').click();
        assert.strictEqual((await rowsShown(t)).length, t.rows.length + 1);
        // The empty default is marked with the reason as soon as "use the default" is chosen, not only after Done,
        // and no longer once another choice makes it unneeded.
        const field = `#node-input-${t.name}Default`;
        await E.setField(page, `#node-input-${t.name}Unknown`, 'default');
        await page.locator(field).waitFor({ state: 'visible' });
        await page.waitForSelector(`${field}.input-error`);
        assert.match(await E.fieldTooltip(page, field), REASON);
        await E.setField(page, `#node-input-${t.name}Unknown`, 'error');
        await page.waitForSelector(`${field}:not(.input-error)`, { state: 'attached' });
        await E.setField(page, `#node-input-${t.name}Unknown`, 'default');
        await page.waitForSelector(`${field}.input-error`);
      }
      // "Use the default" with no default: saved, but the node is refused with the reason, once per table.
      await E.closeEditDialog(page);
      const refused = await saved();
      for (const t of TABLES) assert.deepStrictEqual(refused[t.property], t.rows, `${t.property} saved`);
      assert.deepStrictEqual(refused.unknown, ['default', 'default', 'default']);
      assert.strictEqual(refused.valid, false);
      assert.strictEqual(refused.validationErrors.length, 3, refused.validationErrors.join(' | '));
      for (const e of refused.validationErrors) assert.match(e, REASON);
      assert.match(await E.errorBadge(page, id), REASON);

      // Opened again: rows and choices come back, each empty default marked with the reason; filled, the node is valid.
      await E.openEditDialog(page, id);
      for (const t of TABLES) {
        const field = `#node-input-${t.name}Default`;
        assert.deepStrictEqual(await rowsShown(t), t.rows, `${t.name}: saved rows shown again`);
        assert.strictEqual(await page.inputValue(`#node-input-${t.name}Unknown`), 'default');
        await page.waitForSelector(`${field}.input-error`);
        assert.match(await E.fieldTooltip(page, field), REASON);
        await E.setField(page, field, `${t.name.toUpperCase()}_OTHER`);
        await page.waitForSelector(`${field}:not(.input-error)`);
      }
      await E.closeEditDialog(page);
      const valid = await saved();
      assert.deepStrictEqual(valid.defaults, ['PAYMENT_OTHER', 'SHIPPING_OTHER', 'STATUS_OTHER']);
      for (const t of TABLES) assert.deepStrictEqual(valid[t.property], t.rows, `${t.property} kept`);
      assert.deepStrictEqual(valid.validationErrors, []);
      assert.strictEqual(valid.valid, true);
      assert.strictEqual(await E.errorBadge(page, id), null);

      await E.openEditDialog(page, id);
      for (const t of TABLES) {
        assert.deepStrictEqual(await rowsShown(t), t.rows);
        assert.strictEqual(await page.inputValue(`#node-input-${t.name}Default`), `${t.name.toUpperCase()}_OTHER`);
        assert.ok(await page.locator(`#node-input-${t.name}Default`).isVisible());
      }
      await E.closeEditDialog(page, 'cancel');
    });
  });

  describe('Import > Examples', function () {
    let page;
    before(async function () {
      if (!browser) this.skip();
      page = await E.openEditor(browser.context, stack.nodeRedUrl);
    });
    after(async function () {
      if (page) await page.close();
    });

    it('would see an unknown node (the check itself)', async function () {
      await page.evaluate(() => RED.view.importNodes([
        { id: 'unknown-check-tab', type: 'tab', label: 'Unknown check' },
        { id: 'unknown-check-node', type: 'magento-no-such-node', z: 'unknown-check-tab', x: 200, y: 100, wires: [] },
      ], { generateIds: false, addFlow: false }));
      const warning = page.locator('.red-ui-notification', { hasText: 'unrecognised' });
      assert.match((await warning.innerText()).replace(/\s+/g, ' '), /unrecognised type: ?magento-no-such-node/, 'Node-RED warns of the unrecognised type');
      await E.dismissNotifications(page);
      await page.locator('#red-ui-workspace-tabs li.red-ui-tab[id="red-ui-tab-unknown-check-tab"]').click();
      await page.waitForFunction(() => RED.workspaces.active() === 'unknown-check-tab' && document.querySelector('#red-ui-workspace-chart g.red-ui-flow-node-group'));
      const seen = await E.inspectTab(page, 'unknown-check-tab');
      assert.deepStrictEqual(seen.unknown, ['magento-no-such-node (unknown-check-node)']);
      assert.strictEqual(seen.drawnUnknown, 1);
      await page.evaluate(() => RED.workspaces.delete(RED.nodes.workspace('unknown-check-tab')));
    });

    // Whatever examples/ holds when the suite starts, each through the editor's own import dialog.
    for (const file of S.exampleFiles()) {
      const title = path.basename(file, '.json');
      it(`${title}: imports with no unknown node, every node valid, nothing drawn over another`, async function () {
        const example = S.loadExample(file);
        const tab = example.find((n) => n.type === 'tab');
        await page.evaluate(() => RED.actions.invoke('core:show-examples-import-dialog'));
        const dialog = page.locator('.red-ui-clipboard-dialog-tab-library:visible');
        const folder = dialog.locator('.red-ui-treeList-label', { hasText: S.PACKAGE.name }).first();
        const item = dialog.locator('.red-ui-treeList-label', { hasText: title }).first();
        const ok = page.locator('#red-ui-clipboard-dialog-ok:not(.disabled):not([disabled])');
        // The package's folder may still be open from the previous import (a click would close it), and the
        // example's flow loads after the click before OK is enabled: open the folder only when the example is
        // not shown, and click the example again if OK did not come on (a click that landed mid-animation).
        for (let attempt = 1; ; attempt++) {
          await folder.waitFor({ state: 'visible' });
          if (!(await item.isVisible())) await folder.click();
          await item.waitFor({ state: 'visible' });
          await item.click();
          try {
            await ok.waitFor({ state: 'visible', timeout: 5000 });
            break;
          } catch (err) {
            if (attempt === 3) throw err;
          }
        }
        await ok.click();
        await page.locator('#red-ui-clipboard-dialog-ok').waitFor({ state: 'hidden' });
        const handle = await page.waitForFunction((label) => {
          const ws = RED.nodes.getWorkspaceOrder().map((id) => RED.nodes.workspace(id)).find((w) => w && w.label === label);
          return ws ? ws.id : false;
        }, tab.label);
        const tabId = await handle.jsonValue();
        // Node-RED's own summary of the import; dismissed so it covers nothing of the next import.
        const notice = page.locator('.red-ui-notification', { hasText: /^\s*Imported:/ }).last();
        const summary = (await notice.innerText()).replace(/\s+/g, ' ');
        const flowNodes = example.filter((n) => n.z === tab.id && !['group', 'tab'].includes(n.type) && n.x !== undefined).length;
        assert.match(summary, new RegExp(`1 flow\\b.*\\b${flowNodes} nodes?\\b`), summary);
        const warnings = (await page.locator('.red-ui-notification').allInnerTexts()).filter((t) => /unrecognised|unknown|missing/i.test(t));
        assert.deepStrictEqual(warnings, [], 'no import warning');
        await E.dismissNotifications(page);
        // Node-RED imports a flow with its own tab beside the open one: open it as the user would.
        await page.locator(`#red-ui-workspace-tabs li.red-ui-tab[id="red-ui-tab-${tabId}"]`).click();
        await page.waitForFunction((z) => RED.workspaces.active() === z &&
          document.querySelectorAll('#red-ui-workspace-chart g.red-ui-flow-node-group').length === RED.nodes.filterNodes({ z }).length, tabId);

        const seen = await E.inspectTab(page, tabId);
        assert.strictEqual(seen.count, flowNodes, 'every node of the example is on its tab');
        assert.strictEqual(seen.groups, example.filter((n) => n.type === 'group').length, 'its groups too');
        assert.deepStrictEqual(seen.unknown, [], 'no unknown node type');
        assert.strictEqual(seen.drawnUnknown, 0, 'no node drawn as unknown');
        assert.deepStrictEqual(seen.invalid, [], 'no node with a red triangle');
        assert.deepStrictEqual(await E.overlaps(page, tabId), [], 'no group or node over another, as drawn');
        assert.deepStrictEqual(page.pageErrors, []);
      });
    }
  });

  // Last (mocha runs nested suites in order, after the top-level tests): it replaces the deployed flow.
  describe('the full flow', function () {
    before(function () {
      if (!browser) this.skip();
    });

    it(`flows/${path.basename(chooseFlow(S.ROOT).file)} deployed as npm start does: every tab drawn, no unknown or invalid node`, async function () {
      this.timeout(120000);
      const flow = chooseFlow(S.ROOT);
      // The flow file carries its credentials as ${ENV} references, as the launcher deploys it.
      await S.deploy(stack, flow.nodes);
      const tabs = flow.nodes.filter((n) => n.type === 'tab' && !n.disabled);
      // A window as large as the tab's content (groups included), so each screenshot shows a whole tab at 100 %.
      const viewportFor = (tab) => {
        const onTab = flow.nodes.filter((n) => n.z === tab.id && typeof n.x === 'number');
        const right = Math.max(...onTab.map((n) => (n.type === 'group' ? n.x + n.w : n.x + (n.w || 200) / 2)));
        const bottom = Math.max(...onTab.map((n) => (n.type === 'group' ? n.y + n.h : n.y + (n.h || 40) / 2)));
        return { width: Math.max(1000, Math.min(2600, Math.ceil(right + 60))), height: Math.max(600, Math.min(1600, Math.ceil(bottom + 160))) };
      };
      const page = await E.openEditor(browser.context, stack.nodeRedUrl, { viewport: viewportFor(tabs[0]) });
      try {
        // The flow alone: palette and sidebar out of the way.
        await page.evaluate(() => {
          RED.menu.setSelected('menu-item-palette', false);
          RED.menu.setSelected('menu-item-sidebar', false);
        });
        await page.waitForFunction(() => {
          const main = document.querySelector('#red-ui-main-container').classList;
          return main.contains('red-ui-palette-closed') && main.contains('red-ui-sidebar-closed');
        });
        for (const [i, tab] of tabs.entries()) {
          await page.setViewportSize(viewportFor(tab));
          // Shown through the API: clicks on two tabs in quick succession count as a double click (Edit flow).
          await page.evaluate((z) => RED.workspaces.show(z), tab.id);
          await page.waitForFunction((z) => RED.workspaces.active() === z &&
            document.querySelectorAll('#red-ui-workspace-chart g.red-ui-flow-node-group').length === RED.nodes.filterNodes({ z }).length, tab.id);
          const seen = await E.inspectTab(page, tab.id);
          const expected = flow.nodes.filter((n) => n.z === tab.id && !['group', 'tab'].includes(n.type) && n.x !== undefined).length;
          assert.strictEqual(seen.count, expected, `${tab.label}: every node on the tab`);
          assert.deepStrictEqual(seen.unknown, [], `${tab.label}: no unknown node`);
          assert.strictEqual(seen.drawnUnknown, 0);
          assert.deepStrictEqual(seen.invalid, [], `${tab.label}: no node with a red triangle`);
          const slug = tab.label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
          const name = i === 0 ? 'full-flow.png' : `full-flow-${slug}.png`;
          await page.evaluate(() => RED.view.select(false));
          await page.screenshot({ path: E.screenshotPath(S.ROOT, shotsDir, name) });
        }
        assert.deepStrictEqual(page.pageErrors, []);
      } finally {
        // Node-RED keeps these choices per user on the server: give the next page its palette and sidebar back.
        await page.evaluate(() => {
          RED.menu.setSelected('menu-item-palette', true);
          RED.menu.setSelected('menu-item-sidebar', true);
        });
        await page.close();
      }
    });

    it(`flows/${path.basename(chooseFlow(S.ROOT).file)} as drawn in the editor: no group or node over another`, async function () {
      const flow = chooseFlow(S.ROOT);
      const page = await E.openEditor(browser.context, stack.nodeRedUrl, { viewport: { width: 2600, height: 1600 } });
      try {
        const found = [];
        for (const tab of flow.nodes.filter((n) => n.type === 'tab' && !n.disabled)) {
          await page.evaluate((z) => RED.workspaces.show(z), tab.id);
          await page.waitForFunction((z) => RED.workspaces.active() === z &&
            document.querySelectorAll('#red-ui-workspace-chart g.red-ui-flow-node-group').length === RED.nodes.filterNodes({ z }).length, tab.id);
          for (const o of await E.overlaps(page, tab.id)) found.push(`${tab.label}: ${o}`);
        }
        assert.deepStrictEqual(found, [], 'Node-RED sizes groups to their drawn labels: move the groups apart in the flow file');
      } finally {
        await page.close();
      }
    });
  });
});
