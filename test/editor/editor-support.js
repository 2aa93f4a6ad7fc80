'use strict';
/**
 * Driving the Node-RED editor in headless Chromium (Debian's `chromium`, through playwright-core) the way a
 * user does: drag from the palette, double-click to edit, Done, the help button, the import dialog.
 * Every wait is on a selector or a condition in the page; nothing sleeps.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--no-first-run', '--disable-sync'];

function chromiumInstalled() {
  return fs.existsSync(CHROMIUM);
}

/**
 * One browser (a fresh profile in a temporary directory) for a test file. Only Node-RED may be reached:
 * the editor's palette manager asks catalogue.nodered.org for its list, which a test must not.
 */
async function launchBrowser(nodeRedUrl, { width = 1400, height = 900 } = {}) {
  const { chromium } = require('playwright-core');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'magento-erp-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width, height },
  });
  const origin = new URL(nodeRedUrl).origin;
  await context.route('**/*', (route) => (new URL(route.request().url()).origin === origin ? route.continue() : route.abort()));
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Opens the editor in a new page and waits until it has drawn the palette with our nodes and loaded the
 * deployed flows. `page.pageErrors` collects uncaught errors of the editor's scripts (ours included).
 */
async function openEditor(context, nodeRedUrl, { viewport } = {}) {
  const page = await context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  page.setDefaultTimeout(15000);
  page.pageErrors = [];
  page.on('pageerror', (err) => page.pageErrors.push(err.message));
  await page.goto(nodeRedUrl + '/');
  await page.waitForFunction(() => window.RED && RED.nodes && RED.nodes.getType && RED.nodes.getType('magento-read-orders') &&
    RED.workspaces && RED.workspaces.active() && document.querySelector('#red-ui-palette-container-magento .red-ui-palette-node'), null, { timeout: 30000 });
  // The flows arrive after the palette; the first tab is active once they are in.
  await page.waitForFunction(() => RED.nodes.version() !== null && RED.nodes.version() !== undefined, null, { timeout: 30000 });
  return page;
}

/** The node's `<g>` on the canvas. */
function canvasNode(page, id) {
  return page.locator(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${id}"]`);
}

/** Drags a node of `type` from the palette onto the canvas at (x, y) of the workspace; resolves its id. */
async function dropFromPalette(page, type, { x, y }) {
  const before = await page.evaluate((t) => RED.nodes.filterNodes({ type: t }).map((n) => n.id), type);
  const source = page.locator(`#red-ui-palette-container-magento .red-ui-palette-node[data-palette-type="${type}"]`);
  await source.dragTo(page.locator('#red-ui-workspace-chart'), { targetPosition: { x, y } });
  const handle = await page.waitForFunction(({ t, known }) => {
    const added = RED.nodes.filterNodes({ type: t, z: RED.workspaces.active() }).find((n) => !known.includes(n.id));
    return added ? added.id : false;
  }, { t: type, known: before });
  const id = await handle.jsonValue();
  await canvasNode(page, id).waitFor({ state: 'visible' });
  return id;
}

/** Closes every open edit tray (Cancel), so a failed test leaves no tray in the next one's way. */
async function closeTrays(page) {
  for (;;) {
    const open = await page.locator('.red-ui-tray').count();
    if (open === 0) return;
    await page.evaluate(() => RED.tray.close());
    await page.waitForFunction((n) => document.querySelectorAll('.red-ui-tray').length < n, open);
  }
}

/**
 * Double-clicks the node to open its edit tray. On a loaded machine the browser can see two slow clicks
 * instead of a double-click; then the tray is opened the way the double-click handler does
 * (`RED.editor.edit`), so the test checks the dialog rather than the machine's speed.
 */
async function openEditDialog(page, id) {
  await canvasNode(page, id).dblclick();
  const ok = page.locator('#node-dialog-ok');
  try {
    await ok.waitFor({ state: 'visible', timeout: 5000 });
  } catch {
    await page.evaluate((nodeId) => { if (!document.querySelector('.red-ui-tray')) RED.editor.edit(RED.nodes.node(nodeId)); }, id);
    await ok.waitFor({ state: 'visible' });
  }
}

/** Done (`ok`) or Cancel on the node's edit tray; resolves once the tray is gone. */
async function closeEditDialog(page, button = 'ok') {
  await page.click(button === 'ok' ? '#node-dialog-ok' : '#node-dialog-cancel');
  await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
}

/**
 * Sets an edit-dialog field as a user does: picks an option of a select, or types into an input and
 * leaves it (Node-RED re-validates the form on change/keyup).
 */
async function setField(page, selector, value) {
  const field = page.locator(selector);
  const tag = await field.evaluate((el) => el.tagName);
  if (tag === 'SELECT') {
    await field.selectOption(String(value));
  } else {
    await field.fill(String(value));
    await field.press('End');
    await field.dispatchEvent('change');
  }
}

/**
 * Clicks the help (book) button in the footer of the open tray and waits for the help sidebar to show the
 * help titled `title` (Node-RED titles it with the palette label); resolves what the sidebar shows.
 */
async function helpFromDialog(page, title) {
  const tray = page.locator('.red-ui-tray').last();
  await tray.locator('.red-ui-tray-footer-left button').first().click();
  const read = () => page.evaluate(() => {
    const heading = [...document.querySelectorAll('#red-ui-sidebar-content .red-ui-help .red-ui-help-title')].find((h) => h.offsetParent !== null);
    const help = heading && heading.closest('.red-ui-help');
    if (!help) return null;
    const norm = (s) => s.replace(/\s+/g, ' ').trim();
    return {
      title: heading ? norm(heading.textContent) : '',
      paragraphs: [...help.querySelectorAll('p')].map((p) => norm(p.textContent)),
      headings: [...help.querySelectorAll('h3')].map((h) => norm(h.textContent)),
      messageProperties: help.querySelectorAll('dl.message-properties').length,
      visible: help.offsetParent !== null && help.getBoundingClientRect().width > 0,
    };
  });
  try {
    await page.waitForFunction((t) => {
      return [...document.querySelectorAll('#red-ui-sidebar-content .red-ui-help .red-ui-help-title')]
        .some((h) => h.offsetParent !== null && h.textContent.replace(/\s+/g, ' ').trim() === t);
    }, title, { timeout: 10000 });
  } catch (err) {
    throw new Error(`the help sidebar did not show "${title}": it shows ${JSON.stringify(await read())}`);
  }
  return read();
}

/** What the node's help file says: its first paragraph and its section headings, as text. */
function helpOfFile(htmlFile, type) {
  const html = fs.readFileSync(htmlFile, 'utf8');
  const start = html.indexOf(`data-help-name="${type}"`);
  if (start < 0) throw new Error(`${htmlFile} has no help for ${type}`);
  const help = html.slice(html.indexOf('>', start) + 1, html.indexOf('</script>', start));
  const text = (s) => s.replace(/<[^>]*>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim();
  const first = /<p>([\s\S]*?)<\/p>/.exec(help);
  return {
    firstParagraph: first ? text(first[1]) : '',
    headings: [...help.matchAll(/<h3>([\s\S]*?)<\/h3>/g)].map((m) => text(m[1])),
  };
}

/** The node's state in the editor: valid or not, with Node-RED's reasons. */
function nodeState(page, id) {
  return page.evaluate((nodeId) => {
    const n = RED.nodes.node(nodeId);
    return n ? { valid: n.valid, validationErrors: n.validationErrors || [], changed: n.changed } : null;
  }, id);
}

/**
 * The red triangle Node-RED draws on an invalid node, and the reason it shows when hovered
 * (null when the node has no visible triangle).
 */
async function errorBadge(page, id) {
  const badge = canvasNode(page, id).locator('g.red-ui-flow-node-error');
  await page.waitForFunction((nodeId) => {
    const n = RED.nodes.node(nodeId);
    const g = document.querySelector(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${nodeId}"] g.red-ui-flow-node-error`);
    if (!n || !g) return false;
    // The view redraws asynchronously: wait until the triangle agrees with the node's state.
    const shown = g.getBoundingClientRect().width > 0 && getComputedStyle(g).display !== 'none';
    return shown === !n.valid;
  }, id);
  if (!(await badge.isVisible())) return null;
  await page.mouse.move(0, 0);
  await badge.locator('path').hover();
  const tooltip = page.locator('#red-ui-workspace-chart .red-ui-flow-port-tooltip');
  await tooltip.waitFor({ state: 'visible' });
  const text = (await tooltip.textContent()).replace(/\s+/g, ' ').trim();
  await page.mouse.move(0, 0);
  await tooltip.waitFor({ state: 'detached' });
  return text;
}

/**
 * The tooltip Node-RED attaches to a form field whose validator returned a reason (hover shows it);
 * null when the field has none.
 */
async function fieldTooltip(page, selector) {
  const has = await page.locator(selector).evaluate((el) => !!$(el).data('tooltip'));
  if (!has) return null;
  await page.locator(selector).hover();
  const popover = page.locator('.red-ui-popover:visible').last();
  await popover.waitFor({ state: 'visible' });
  const text = (await popover.textContent()).replace(/\s+/g, ' ').trim();
  await page.mouse.move(0, 0);
  return text;
}

/**
 * What is on a tab and the config nodes its nodes use: node count, nodes of an unknown type (not registered,
 * or drawn as unknown), invalid nodes with Node-RED's reasons, groups.
 */
function inspectTab(page, z) {
  return page.evaluate((tabId) => {
    const onTab = RED.nodes.filterNodes({ z: tabId });
    const configs = [];
    RED.nodes.eachConfig((n) => {
      if (n.type !== 'global-config' && n.users && n.users.some((u) => u.z === tabId)) configs.push(n);
    });
    const all = onTab.concat(configs);
    return {
      count: onTab.length,
      // Node-RED keeps a node of a type it does not know as type "unknown", its own type in _orig.
      unknown: all.filter((n) => n.type === 'unknown' || !RED.nodes.getType(n.type)).map((n) => `${(n._orig && n._orig.type) || n.type} (${n.id})`),
      invalid: all.filter((n) => n.valid === false).map((n) => `${n.type} "${n.name || n.id}": ${(n.validationErrors || []).join(', ')}`),
      drawnUnknown: document.querySelectorAll('#red-ui-workspace-chart .red-ui-flow-node-unknown').length,
      groups: RED.nodes.groups(tabId).length,
    };
  }, z);
}

/**
 * Groups and nodes of the shown tab that overlap as the editor draws them. Node-RED sizes a group to its
 * nodes' drawn labels on load, so the w/h stored in a flow file do not tell.
 */
function overlaps(page, z) {
  return page.evaluate((tabId) => {
    const box = (el) => el && el.getBoundingClientRect();
    const groups = RED.nodes.groups(tabId).map((g) => ({ what: `group "${g.name || g.id}"`, r: box(document.getElementById(g.id)) }));
    const nodes = RED.nodes.filterNodes({ z: tabId }).map((n) => ({
      what: `${n.type} "${n.name || n.id}"`,
      r: box(document.querySelector(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${n.id}"] .red-ui-flow-node`)),
    }));
    // How far two boxes run into each other (px, the smaller of the two directions); borders may touch.
    const depth = (a, b) => {
      if (!a || !b) return 0;
      const across = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const down = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      return across > 0 && down > 0 ? Math.min(across, down) : 0;
    };
    const found = [];
    for (const list of [groups, nodes]) {
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          const d = depth(list[i].r, list[j].r);
          if (d > 2) found.push(`${list[i].what} / ${list[j].what} (${Math.round(d)} px)`);
        }
      }
    }
    return found;
  }, z);
}

/** Closes every notification (as a click on it does), so none covers what the next step clicks. */
async function dismissNotifications(page) {
  await page.evaluate(() => document.querySelectorAll('.red-ui-notification').forEach((n) => n.close && n.close()));
  await page.waitForFunction(() => document.querySelectorAll('.red-ui-notification').length === 0);
}

/** Writes a screenshot into docs/ when asked (UPDATE_SCREENSHOTS=1), else into `fallbackDir`; returns the path. */
function screenshotPath(root, fallbackDir, name) {
  const dir = process.env.UPDATE_SCREENSHOTS === '1' ? path.join(root, 'docs') : fallbackDir;
  return path.join(dir, name);
}

module.exports = {
  CHROMIUM, CHROMIUM_ARGS, chromiumInstalled, launchBrowser, openEditor, canvasNode, dropFromPalette, openEditDialog,
  closeEditDialog, closeTrays, setField, helpFromDialog, helpOfFile, nodeState, errorBadge, fieldTooltip, inspectTab, overlaps, dismissNotifications, screenshotPath,
};
