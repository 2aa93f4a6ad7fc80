'use strict';
/**
 * The example flows of examples/ (Node-RED's Import > Examples): their structure, then each one deployed
 * as imported into a real Node-RED process against the Magento sandbox and the demo ERP, triggered the way
 * a user would (inject buttons through the admin API, HTTP requests to its endpoints) and judged by the
 * state of the sandbox and the ERP.
 */
const assert = require('assert');
const path = require('path');
const S = require('./examples-support');

const FILES = S.exampleFiles();
const EXAMPLES = Object.fromEntries(FILES.map((f) => [f, S.loadExample(f)]));
const OURS = S.ourNodeTypes();
const CORE = S.coreNodeTypes();

function example(prefix) {
  const file = FILES.find((f) => f.startsWith(prefix + ' '));
  assert.ok(file, `no example ${prefix}`);
  return EXAMPLES[file];
}

describe('example flows (examples/)', function () {
  describe('structure', function () {
    it('has the eight task examples, named as the Import > Examples menu shows them', function () {
      assert.deepStrictEqual(FILES, [
        '01 Poll orders to the ERP.json',
        '02 Receive order webhooks.json',
        '03 Push stock to Magento.json',
        '04 Push prices to Magento.json',
        '05 Ship and invoice from the ERP.json',
        '06 Create products from the ERP.json',
        '07 Retries and dead letters.json',
        '08 Send orders to any ERP.json',
      ]);
    });

    it('uses every non-config node type of the package somewhere', function () {
      const used = new Set(Object.values(EXAMPLES).flat().map((n) => n.type));
      const missing = [...OURS].filter(([type, t]) => !t.config && !used.has(type)).map(([type]) => type);
      assert.deepStrictEqual(missing, [], `node types without an example: ${missing.join(', ')}`);
      assert.ok(OURS.size >= 11, 'package.json lists our node types');
    });

    it('keeps ids unique within and across examples (two imports never collide)', function () {
      const seen = new Map();
      for (const [file, nodes] of Object.entries(EXAMPLES)) {
        for (const n of nodes) {
          assert.ok(typeof n.id === 'string' && n.id !== '', `${file}: a node without id`);
          assert.ok(!seen.has(n.id), `${file}: id ${n.id} also in ${seen.get(n.id)}`);
          seen.set(n.id, file);
        }
      }
    });

    for (const file of FILES) {
      describe(file, function () {
        const nodes = EXAMPLES[file];
        const ids = new Map(nodes.map((n) => [n.id, n]));

        it('is a Node-RED flow export: an array of nodes with one tab', function () {
          assert.ok(Array.isArray(nodes) && nodes.length > 5);
          const tabs = nodes.filter((n) => n.type === 'tab');
          assert.strictEqual(tabs.length, 1);
          assert.strictEqual(tabs[0].label, path.basename(file, '.json'));
        });

        it('has only known node types (ours or Node-RED core)', function () {
          const unknown = nodes.filter((n) => !OURS.has(n.type) && !CORE.has(n.type)).map((n) => `${n.type} (${n.id})`);
          assert.deepStrictEqual(unknown, []);
        });

        it('has no broken wires, groups, tabs or config references', function () {
          const tab = nodes.find((n) => n.type === 'tab');
          for (const n of nodes) {
            if (n.type === 'tab') continue;
            const config = OURS.get(n.type)?.config || n.z === undefined;
            if (!config) assert.strictEqual(n.z, tab.id, `${n.type} ${n.id} is not on the example's tab`);
            for (const [i, out] of (n.wires ?? []).entries()) {
              for (const target of out) {
                assert.ok(ids.has(target), `${n.type} "${n.name}" output ${i + 1} is wired to a missing node ${target}`);
                assert.notStrictEqual(ids.get(target).type, 'comment', `${n.name} is wired to a comment`);
              }
            }
            if (n.g !== undefined) {
              const g = ids.get(n.g);
              assert.ok(g && g.type === 'group' && g.nodes.includes(n.id), `${n.type} "${n.name}" names group ${n.g}, which does not list it`);
            }
            if (n.type === 'group') for (const m of n.nodes) assert.strictEqual(ids.get(m)?.g, n.id, `group "${n.name}" lists ${m}, which is not in it`);
            if (n.type === 'catch' && Array.isArray(n.scope)) for (const s of n.scope) assert.ok(ids.has(s), `catch "${n.name}" watches a missing node ${s}`);
            if (typeof n.store === 'string' && OURS.has(n.type)) {
              assert.strictEqual(ids.get(n.store)?.type, 'magento-store-config', `${n.type} "${n.name}" has no store-config of its own`);
            }
          }
        });

        it('explains itself: a read-me comment, groups around every working node', function () {
          const comments = nodes.filter((n) => n.type === 'comment');
          assert.ok(comments.some((c) => /read me/.test(c.name) && c.info.length > 300), 'a "read me" comment with details');
          assert.ok(nodes.some((n) => n.type === 'group'));
          const loose = nodes.filter((n) => n.z && !['comment', 'group', 'tab'].includes(n.type) && n.g === undefined);
          assert.deepStrictEqual(loose.map((n) => n.name || n.type), [], 'nodes outside any group');
          for (const n of nodes) if (n.type === 'function') assert.ok(/^\s*\/\/|\n\s*\/\//.test(n.func) || n.func.split('\n').length < 12, `function "${n.name}" says why in a comment`);
        });

        it('brings its own store-config, configured only from the documented environment variables', function () {
          const stores = nodes.filter((n) => n.type === 'magento-store-config');
          assert.strictEqual(stores.length, 1);
          const s = stores[0];
          assert.strictEqual(s.baseUrl, '${MAGENTO_URL}');
          assert.strictEqual(s.storeCode, '${MAGENTO_STORE_CODE}');
          assert.strictEqual(s.authType, '${MAGENTO_AUTH}');
          const text = JSON.stringify(nodes);
          const names = new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g), ...text.matchAll(/env\.get\(\\?['"]([A-Za-z0-9_]+)\\?['"]\)/g)].map((m) => m[1]));
          const undocumented = [...names].filter((n) => !S.FLOW_ENV_NAMES.includes(n));
          assert.deepStrictEqual(undocumented, [], 'environment variables the README does not document');
        });

        it('holds no secret: credentials are ${ENV} references only', function () {
          for (const n of nodes) {
            for (const [key, value] of Object.entries(n.credentials ?? {})) {
              assert.match(String(value), /^\$\{[A-Z][A-Z0-9_]*\}$/, `${n.type} credential ${key} must be a \${ENV} reference`);
            }
          }
          const text = JSON.stringify(nodes);
          for (const secret of ['sandbox-token', 'sandbox-consumer-secret', 'sandbox-access-token', 'sandbox123', 'sandbox-webhook-secret']) {
            assert.ok(!text.includes(secret), `the sandbox secret "${secret}" is written in the example`);
          }
        });
      });
    }
  });

  describe('deployed into Node-RED against the sandbox and the demo ERP', function () {
    this.timeout(180000);
    let stack;

    before(async function () {
      stack = await S.startStack();
    });

    after(async function () {
      if (stack) await stack.stop();
    });

    afterEach(function () {
      if (this.currentTest.state === 'failed' && stack) {
        this.currentTest.err.message += `\nNode-RED said (last lines):\n${stack.logs.slice(-25).join('\n')}`;
      }
    });

    it('lists the eight examples in Node-RED\'s Import > Examples menu under the package', async function () {
      const modules = await S.http('GET', `${stack.nodeRedUrl}/library/examples/flows/`);
      assert.ok(modules.body.includes(S.PACKAGE.name), JSON.stringify(modules.body));
      const listed = await S.http('GET', `${stack.nodeRedUrl}/library/examples/flows/${S.PACKAGE.name}`);
      assert.deepStrictEqual(listed.body.map((e) => e.fn), FILES.map((f) => path.basename(f, '.json')));
    });

    /** Deploys an example as the editor imports it from the examples library, and checks Node-RED took it without complaint. */
    async function deployed(prefix) {
      const file = FILES.find((f) => f.startsWith(prefix + ' '));
      const served = await S.http('GET', `${stack.nodeRedUrl}/library/examples/flows/${S.PACKAGE.name}/${encodeURIComponent(path.basename(file, '.json'))}`);
      assert.strictEqual(served.status, 200);
      const nodes = served.body;
      assert.deepStrictEqual(nodes, EXAMPLES[file], 'Node-RED serves the example file as it is');
      const lines = await S.deploy(stack, nodes);
      const problems = lines.filter((l) => /\[(error|warn)\]|unknown|missing node types/i.test(l));
      assert.deepStrictEqual(problems, [], `deploying ${prefix} was not clean`);
      return nodes;
    }

    const ids = (nodes, name, type) => S.byName(nodes, name, type).id;
    const erpOrder = (number) => stack.erp.state.ordersByNumber.get(number);
    const erpPosts = (number) => stack.erp.requests.filter((r) => r.method === 'POST' && r.path === '/orders' && r.orderNumber === number && !r.fault);
    // The demo ERP fails an injected fault before reading the order: such requests name no order.
    const erpFaults = () => stack.erp.requests.filter((r) => r.method === 'POST' && r.path === '/orders' && r.fault).length;

    it('01 polls new orders into the ERP once each, duplicates held back by the gate, a 503 retried', async function () {
      const nodes = await deployed('01');
      const placed = await stack.magento.placeOrders(2);
      await S.inject(stack, ids(nodes, 'poll now', 'inject'));
      for (const o of placed) {
        await S.waitFor(`order ${o.increment_id} in the ERP`, () => erpOrder(o.increment_id));
        assert.strictEqual(erpOrder(o.increment_id).idempotency_key, `order_${o.increment_id}`);
      }
      // The next poll reads them again (overlap): the gate answers with the ERP order id the commit stored.
      await S.inject(stack, ids(nodes, 'poll now', 'inject'));
      const dupe = await S.debugMessage(stack, nodes, 'duplicates (already sent)', (g) => g && g.key === `order_${placed[0].increment_id}`);
      assert.strictEqual(dupe.status, 'duplicate');
      assert.strictEqual(dupe.result.erp_order_id, erpOrder(placed[0].increment_id).erp_order_id);
      for (const o of placed) assert.strictEqual(erpPosts(o.increment_id).length, 1, `order ${o.increment_id} was POSTed once`);

      const faults = erpFaults();
      stack.erp.setFaults({ failNextOrders: 1, status: 503 });
      const [late] = await stack.magento.placeOrders(1);
      await S.inject(stack, ids(nodes, 'poll now', 'inject'));
      await S.waitFor(`order ${late.increment_id} in the ERP after a retry`, () => erpOrder(late.increment_id), { timeoutMs: 30000 });
      assert.strictEqual(erpFaults(), faults + 1, 'the first attempt got the 503');
      assert.deepStrictEqual(erpPosts(late.increment_id).map((r) => r.status), [201]);
      stack.erp.setFaults({ failNextOrders: 0 });
    });

    it('02 receives signed webhooks, re-reads the order and sends it to the ERP once, duplicate deliveries dropped', async function () {
      const nodes = await deployed('02');
      await S.inject(stack, ids(nodes, 'sandbox: send webhooks here', 'inject'));
      await S.waitFor('the sandbox sending webhooks to the example', async () => {
        const config = await S.http('GET', `${stack.magento.url}/__sandbox/config`);
        return config.body.webhookUrl === `${stack.nodeRedUrl}/example/magento/webhook`;
      });
      await S.inject(stack, ids(nodes, 'sandbox: place an order', 'inject'));
      const answer = await S.debugMessage(stack, nodes, 'sandbox answer', (p) => p && Array.isArray(p.orders));
      const number = answer.orders[0].increment_id;
      await S.waitFor(`order ${number} in the ERP`, () => erpOrder(number));
      const deliveries = stack.magento.webhookDeliveries().filter((d) => d.incrementId === number);
      assert.strictEqual(deliveries.length, 2, 'the sandbox delivered the event twice');
      assert.deepStrictEqual(deliveries.map((d) => d.status), [200, 200]);

      const more = await stack.magento.placeOrders(2, { webhook: true, duplicate: true, outOfOrder: true });
      for (const o of more) await S.waitFor(`order ${o.increment_id} in the ERP`, () => erpOrder(o.increment_id));
      for (const o of [...more, { increment_id: number }]) assert.strictEqual(erpPosts(o.increment_id).length, 1, `order ${o.increment_id} POSTed once`);
      // The order in the ERP is the whole order (re-read), not the webhook's summary.
      const full = (await S.http('GET', `${stack.erp.url}/orders/${more[0].increment_id}`)).body;
      assert.ok(full.order.items.length > 0 && full.order.billing_address, 'the canonical order with its items and addresses');

      const bad = await S.http('POST', `${stack.nodeRedUrl}/example/magento/webhook`, { order_id: 1 }, { 'X-Magento-Signature': 'f'.repeat(64), 'X-Magento-Timestamp': String(Math.floor(Date.now() / 1000)) });
      assert.strictEqual(bad.status, 401, 'a wrong signature is refused');
    });

    it('02 with webhook-in on a port of its own: the sandbox\'s webhooks arrive there, each order in the ERP once', async function () {
      const file = FILES.find((f) => f.startsWith('02 '));
      const own = await S.freePort();
      const nodes = JSON.parse(JSON.stringify(EXAMPLES[file]));
      const hook = nodes.find((n) => n.type === 'magento-webhook-in');
      Object.assign(hook, { listen: 'port', port: String(own), host: '127.0.0.1' });
      const lines = await S.deploy(stack, nodes);
      assert.deepStrictEqual(lines.filter((l) => /\[(error|warn)\]|unknown|missing node types/i.test(l)), [], 'deployed cleanly');
      const url = `http://127.0.0.1:${own}${hook.url}`;
      // Listening once deployed (the server starts with the node): a GET is told to POST.
      const get = await S.waitFor('webhook-in listening on its own port', async () => {
        try { return await S.http('GET', url); } catch { return undefined; }
      });
      assert.strictEqual(get.status, 405);
      await S.http('POST', `${stack.magento.url}/__sandbox/config`, { webhookUrl: url, webhookSignTimestamp: false });
      const placed = await stack.magento.placeOrders(2, { webhook: true, duplicate: true });
      for (const o of placed) await S.waitFor(`order ${o.increment_id} in the ERP`, () => erpOrder(o.increment_id));
      for (const o of placed) {
        assert.strictEqual(erpPosts(o.increment_id).length, 1, `order ${o.increment_id} POSTed once`);
        const deliveries = stack.magento.webhookDeliveries().filter((d) => d.incrementId === o.increment_id);
        assert.deepStrictEqual(deliveries.map((d) => d.status), [200, 200], 'both deliveries answered by the own port');
      }
      const bad = await S.http('POST', url, { order_id: 1 }, { 'X-Magento-Signature': 'f'.repeat(64), 'X-Magento-Timestamp': String(Math.floor(Date.now() / 1000)) });
      assert.strictEqual(bad.status, 401, 'a wrong signature is refused there too');
      // Not on Node-RED's own server any more.
      assert.strictEqual((await S.http('POST', `${stack.nodeRedUrl}${hook.url}`, { order_id: 1 })).status, 404);
      await S.http('POST', `${stack.magento.url}/__sandbox/config`, { webhookUrl: '' });
    });

    it('03 pushes ERP stock levels into MSI source items: by HTTP, the sample, a 503 retried and a sync from the ERP', async function () {
      const nodes = await deployed('03');
      const url = `${stack.nodeRedUrl}/example/erp/stock`;
      const refused = await S.http('POST', url, { item: [] });
      assert.strictEqual(refused.status, 400);
      assert.strictEqual(refused.body.errors[0].field, 'items');

      const accepted = await S.http('POST', url, { items: [{ sku: '24-MB01', qty: 7 }, { sku: '24-MB02', qty: 3, source: 'warehouse_east' }] });
      assert.strictEqual(accepted.status, 202);
      assert.deepStrictEqual(accepted.body, { accepted: 2 });
      await S.waitFor('24-MB01 at 7 in default', () => stack.magento.getSourceItem('24-MB01', 'default')?.quantity === 7);
      await S.waitFor('24-MB02 at 3 in warehouse_east', () => stack.magento.getSourceItem('24-MB02', 'warehouse_east')?.quantity === 3);

      await S.inject(stack, ids(nodes, 'sample: 3 stock levels', 'inject'));
      const result = await S.debugMessage(stack, nodes, 'result per item', (p) => p && Array.isArray(p.items) && p.items.some((i) => i.sku === 'NO-SUCH-SKU'));
      assert.notStrictEqual(result.status, 'ok', 'an unknown SKU makes the result partial');
      const unknown = result.items.find((i) => i.sku === 'NO-SUCH-SKU');
      assert.ok(unknown.reason, 'the unknown SKU is named with a reason');
      await S.waitFor('24-MB01 at 25 (the sample)', () => stack.magento.getSourceItem('24-MB01', 'default')?.quantity === 25);
      await S.waitFor('24-MB02 at 4 in warehouse_east (the sample)', () => stack.magento.getSourceItem('24-MB02', 'warehouse_east')?.quantity === 4);

      // Magento answers 503 once: the Catch node hands the batch to retry-queue, which pushes it again.
      stack.magento.setFaults({ next: [{ count: 1, fault: 503, route: '/V1/inventory/source-items', method: 'POST' }] });
      assert.strictEqual((await S.http('POST', url, { items: [{ sku: '24-MB01', qty: 9 }] })).status, 202);
      await S.waitFor('24-MB01 at 9 after a retry', () => stack.magento.getSourceItem('24-MB01', 'default')?.quantity === 9, { timeoutMs: 30000 });
      stack.magento.setFaults({});

      const sku = stack.catalog[5].sku;
      stack.erp.state.setStock(sku, 'default', 55);
      await S.inject(stack, ids(nodes, 'sync from the ERP', 'inject'));
      await S.waitFor(`${sku} at 55 after the sync`, () => stack.magento.getSourceItem(sku, 'default')?.quantity === 55);
    });

    it('04 pushes ERP prices: base by HTTP, base/special/tier from the sample, a sync from the ERP', async function () {
      const nodes = await deployed('04');
      const accepted = await S.http('POST', `${stack.nodeRedUrl}/example/erp/prices`, { items: [{ sku: '24-MB03', price: 12.34 }] });
      assert.strictEqual(accepted.status, 202);
      await S.waitFor('24-MB03 at 12.34', () => stack.magento.getPrice('24-MB03') === 12.34);
      assert.strictEqual((await S.http('POST', `${stack.nodeRedUrl}/example/erp/prices`, { items: [] })).status, 400);

      await S.inject(stack, ids(nodes, 'sample: base, special and tier price', 'inject'));
      await S.waitFor('24-MB01 base price 59.9', () => stack.magento.getPrice('24-MB01') === 59.9);
      await S.waitFor('24-MB01 special price 49.9', () => stack.magento.getSpecialPrices('24-MB01').some((p) => Number(p.price) === 49.9));
      await S.waitFor('24-MB02 tier price for 5', () => stack.magento.getTierPrices('24-MB02').some((p) => Number(p.quantity) === 5 && Number(p.price) === 80));
      const result = await S.debugMessage(stack, nodes, 'result per item', (p) => p && Array.isArray(p.items) && p.items.some((i) => i.sku === 'NO-SUCH-SKU'));
      assert.ok(result.items.find((i) => i.sku === 'NO-SUCH-SKU').reason);

      const sku = stack.catalog[6].sku;
      stack.erp.state.setPrice(sku, 77.7);
      await S.inject(stack, ids(nodes, 'sync from the ERP', 'inject'));
      await S.waitFor(`${sku} at 77.7 after the sync`, () => stack.magento.getPrice(sku) === 77.7);
    });

    it('05 ships and invoices in part deliveries, refuses what cannot be, and updates orders from the ERP', async function () {
      const nodes = await deployed('05');
      const shipUrl = `${stack.nodeRedUrl}/example/erp/shipments`;
      const updateUrl = `${stack.nodeRedUrl}/example/erp/order-updates`;
      const [order] = await placeMultiUnitOrder();
      const lines = order.items.filter((i) => !i.parent_item_id && i.product_type !== 'virtual').map((i) => ({ sku: i.sku, qty: i.qty_ordered }));
      const first = { sku: lines[0].sku, qty: 1 };
      const rest = lines.map((l, i) => (i === 0 ? { sku: l.sku, qty: l.qty - 1 } : l)).filter((l) => l.qty > 0);
      const track = { carrier: 'ups', title: 'UPS', number: '1Z0001' };

      const part1 = await S.http('POST', shipUrl, { shipment_id: 'SHP-1', order_number: order.increment_id, lines: [first], tracks: [track], invoice: true });
      assert.strictEqual(part1.status, 201, JSON.stringify(part1.body));
      assert.strictEqual(part1.body.created, true);
      assert.ok(part1.body.invoice_id, 'invoiced with the shipment');
      assert.strictEqual(stack.magento.getOrder(order.entity_id).state, 'processing');

      const again = await S.http('POST', shipUrl, { shipment_id: 'SHP-1', order_number: order.increment_id, lines: [first], tracks: [track], invoice: true });
      assert.strictEqual(again.status, 200);
      assert.strictEqual(again.body.created, false, 'a repeated delivery creates nothing');

      const over = await S.http('POST', shipUrl, { shipment_id: 'SHP-X', order_number: order.increment_id, lines: [{ sku: first.sku, qty: 1000 }], tracks: [track] });
      assert.strictEqual(over.status, 400);
      assert.strictEqual(over.body.errorClass, 'validation');
      const unknown = await S.http('POST', shipUrl, { shipment_id: 'SHP-Y', order_number: '999999999', lines: [first], tracks: [track] });
      assert.strictEqual(unknown.status, 404);

      const part2 = await S.http('POST', shipUrl, { shipment_id: 'SHP-2', order_number: order.increment_id, lines: rest, tracks: [track], invoice: true });
      assert.strictEqual(part2.status, 201, JSON.stringify(part2.body));
      const done = stack.magento.getOrder(order.entity_id);
      assert.strictEqual(done.state, 'complete');
      assert.strictEqual(part2.body.order_state, 'complete');

      const [other] = await stack.magento.placeOrders(1);
      const hold = await S.http('POST', updateUrl, { order_number: other.increment_id, action: 'hold', comment: 'Waiting for the bank' });
      assert.strictEqual(hold.status, 200, JSON.stringify(hold.body));
      assert.strictEqual(stack.magento.getOrder(other.entity_id).state, 'holded');
      assert.ok(stack.magento.getOrder(other.entity_id).status_histories.some((h) => h.comment === 'Waiting for the bank'));
      const shipHeld = await S.http('POST', shipUrl, { shipment_id: 'SHP-H', order_number: other.increment_id, lines: [{ sku: other.items[0].sku, qty: 1 }], tracks: [track] });
      assert.strictEqual(shipHeld.status, 409, 'an order on hold cannot ship');
      const unhold = await S.http('POST', updateUrl, { order_number: other.increment_id, action: 'unhold' });
      assert.strictEqual(unhold.status, 200);
      assert.notStrictEqual(stack.magento.getOrder(other.entity_id).state, 'holded');
      assert.strictEqual((await S.http('POST', updateUrl, { action: 'hold' })).status, 400, 'an update without order number is refused');
    });

    it('05 "try it": two parcels for the newest ERP order, a repeat, a hold refusing part 2, then the rest', async function () {
      const nodes = await deployed('05');
      const [order] = await placeMultiUnitOrder();
      await sendToErp(order);
      const shipments = () => stack.magento.requests().filter((r) => r.method === 'POST' && /\/V1\/order\/\d+\/ship$/.test(r.path) && r.path.includes(`/${order.entity_id}/`) && r.status === 200).length;

      await S.inject(stack, ids(nodes, 'part 1: ship half of the newest ERP order', 'inject'));
      const first = await S.debugMessage(stack, nodes, 'results and refusals', (m) => m && m.payload && m.payload.erp_shipment_id === `DEMO-${order.increment_id}-1`);
      assert.strictEqual(first.payload.created, true);
      assert.strictEqual(stack.magento.getOrder(order.entity_id).state, 'processing');
      await S.inject(stack, ids(nodes, 'part 1: ship half of the newest ERP order', 'inject'));
      await S.debugMessage(stack, nodes, 'results and refusals', (m) => m && m.payload && m.payload.erp_shipment_id === `DEMO-${order.increment_id}-1` && m.payload.created === false);
      assert.strictEqual(shipments(), 1, 'the repeat created no second shipment');

      await S.inject(stack, ids(nodes, 'put it on hold', 'inject'));
      await S.waitFor('the order on hold', () => stack.magento.getOrder(order.entity_id).state === 'holded');
      await S.inject(stack, ids(nodes, 'part 2: ship the rest', 'inject'));
      const refused = await S.debugMessage(stack, nodes, 'results and refusals', (m) => m && m.topic === 'refused 409');
      assert.strictEqual(refused.payload.errorClass, 'permanent');
      await S.inject(stack, ids(nodes, 'release the hold', 'inject'));
      await S.waitFor('the hold released', () => stack.magento.getOrder(order.entity_id).state === 'processing');
      await S.inject(stack, ids(nodes, 'part 2: ship the rest', 'inject'));
      await S.waitFor('the order complete after part 2', () => stack.magento.getOrder(order.entity_id).state === 'complete');
      await S.inject(stack, ids(nodes, 'add a comment', 'inject'));
      await S.waitFor('the comment', () => stack.magento.getOrder(order.entity_id).status_histories.some((h) => h.comment === 'Packed in warehouse east'));
    });

    it('06 creates ERP articles as disabled products, later updates only their core data, retries a 503', async function () {
      const nodes = await deployed('06');
      const url = `${stack.nodeRedUrl}/example/erp/products`;
      assert.strictEqual((await S.http('POST', url, { items: 'x' })).status, 400);
      const accepted = await S.http('POST', url, { items: [{ sku: 'EX-API-1', name: 'Example API product', price: 9.5, qty: 3 }] });
      assert.strictEqual(accepted.status, 202);
      await S.waitFor('EX-API-1 created', () => stack.magento.getProduct('EX-API-1'));
      assert.strictEqual(stack.magento.getProduct('EX-API-1').status, 2, 'created disabled');

      await S.inject(stack, ids(nodes, 'new product', 'inject'));
      const created = await S.debugMessage(stack, nodes, 'result per item', (p) => p && p.items && p.items[0] && /^EXAMPLE-/.test(p.items[0].sku) && p.items[0].outcome === 'created');
      const sku = created.items[0].sku;
      const product = stack.magento.getProduct(sku);
      assert.strictEqual(product.status, 2);
      assert.strictEqual(product.price, 24.9);

      await S.inject(stack, ids(nodes, 'change it', 'inject'));
      await S.debugMessage(stack, nodes, 'result per item', (p) => p && p.items && p.items[0] && p.items[0].sku === sku && p.items[0].outcome === 'updated');
      const updated = stack.magento.getProduct(sku);
      assert.match(updated.name, /\(new colour\)$/);
      assert.strictEqual(updated.price, 22.5);
      assert.strictEqual(updated.status, 2, 'still disabled: status belongs to the shop team');
      await S.inject(stack, ids(nodes, 'change it', 'inject'));
      await S.debugMessage(stack, nodes, 'result per item', (p) => p && p.items && p.items[0] && p.items[0].sku === sku && p.items[0].outcome === 'unchanged');

      // Magento answers 503 twice: the Catch node hands exactly the failed item to retry-queue, which brings it back.
      stack.magento.setFaults({ next: [{ count: 2, fault: 503, route: '/V1/products', method: 'POST' }] });
      const later = await S.http('POST', url, { items: [{ sku: 'EX-RETRY-1', name: 'Example retried product', price: 5 }] });
      assert.strictEqual(later.status, 202);
      await S.waitFor('EX-RETRY-1 created after retries', () => stack.magento.getProduct('EX-RETRY-1'), { timeoutMs: 30000 });
      assert.strictEqual(stack.magento.getProduct('EX-RETRY-1').status, 2);
      stack.magento.setFaults({});
    });

    it('07 retries ERP failures, lists dead letters and retries and discards them by command', async function () {
      const nodes = await deployed('07');
      const poll = ids(nodes, 'poll now', 'inject');
      const queueAnswer = (command, match = () => true) => S.debugMessage(stack, nodes, 'command answers and alerts', (p) => p && p.command === command && match(p));
      // Catch up first: every order placed by the earlier tests reaches the ERP (mostly answered as replays).
      await S.inject(stack, poll);
      const all = (await S.http('GET', `${stack.magento.url}/__sandbox`)).body.orders;
      await S.waitFor('every sandbox order in the ERP', () => stack.erp.state.orders.size >= all, { timeoutMs: 60000 });

      // Transient: three 503s, then it arrives, once.
      const faults = erpFaults();
      await S.inject(stack, ids(nodes, 'ERP: next 3 orders fail (503)', 'inject'));
      await S.waitFor('the ERP fault switched on', () => stack.erp.faults.failNextOrders === 3);
      await S.inject(stack, ids(nodes, 'sandbox: place an order', 'inject'));
      const placed = await S.debugMessage(stack, nodes, 'sandbox answer', (p) => p && Array.isArray(p.orders));
      const number = placed.orders[0].increment_id;
      await S.inject(stack, poll);
      await S.waitFor(`order ${number} in the ERP after retries`, () => erpOrder(number), { timeoutMs: 60000 });
      assert.strictEqual(erpFaults(), faults + 3);
      assert.deepStrictEqual(erpPosts(number).map((r) => r.status), [201]);
      // The three failures were one queue entry (attempts 1, 2, 3), finished by the success coming back:
      // nothing waits, nothing is left in flight.
      await S.waitFor('no retry waiting or in flight', async () => {
        stack.comms.debug.length = 0;
        await S.inject(stack, ids(nodes, 'list waiting retries', 'inject'));
        const waiting = await queueAnswer('list');
        return waiting.count === 0;
      }, { timeoutMs: 15000, intervalMs: 300 });

      // Validation: the ERP refuses (400) -> a dead letter at once, listed, retried by command -> it arrives.
      await S.inject(stack, ids(nodes, 'ERP: next order refused (400)', 'inject'));
      await S.waitFor('the ERP refusal switched on', () => stack.erp.faults.failNextOrders === 1 && stack.erp.faults.status === 400);
      const [refused] = await stack.magento.placeOrders(1);
      await S.inject(stack, poll);
      const dead = await S.debugMessage(stack, nodes, 'dead letters', (m) => m && m.idempotencyKey === `order_${refused.increment_id}`);
      assert.strictEqual(dead.deadLetter.reason, 'validation');
      assert.strictEqual(erpOrder(refused.increment_id), undefined);
      await S.inject(stack, ids(nodes, 'list dead letters', 'inject'));
      const listed = await queueAnswer('list', (p) => p.entries.some((e) => e.idempotencyKey === `order_${refused.increment_id}`));
      const entry = listed.entries.find((e) => e.idempotencyKey === `order_${refused.increment_id}`);
      assert.strictEqual(entry.reason, 'validation');
      assert.strictEqual(entry.history[0].status, 400, 'the ERP\'s answer is in the history');
      await S.inject(stack, ids(nodes, 'retry all dead letters', 'inject'));
      await S.waitFor(`order ${refused.increment_id} in the ERP after the retry command`, () => erpOrder(refused.increment_id));
      assert.deepStrictEqual(erpPosts(refused.increment_id).map((r) => r.status), [201]);

      // Discard: another refusal, listed, discarded by id -> the list is empty, the order never sent.
      await S.inject(stack, ids(nodes, 'ERP: next order refused (400)', 'inject'));
      await S.waitFor('the ERP refusal switched on', () => stack.erp.faults.failNextOrders === 1);
      const [discarded] = await stack.magento.placeOrders(1);
      await S.inject(stack, poll);
      await S.debugMessage(stack, nodes, 'dead letters', (m) => m && m.idempotencyKey === `order_${discarded.increment_id}`);
      stack.comms.debug.length = 0;
      await S.inject(stack, ids(nodes, 'list dead letters', 'inject'));
      const before = await queueAnswer('list', (p) => p.entries.some((e) => e.idempotencyKey === `order_${discarded.increment_id}`));
      assert.strictEqual(before.entries[0].idempotencyKey, `order_${discarded.increment_id}`, 'the only dead letter (others would be listed first)');
      await S.inject(stack, ids(nodes, 'discard the first listed', 'inject'));
      const answer = await queueAnswer('discard');
      assert.deepStrictEqual(answer.discarded, [before.entries[0].id]);
      stack.comms.debug.length = 0;
      await S.inject(stack, ids(nodes, 'list dead letters', 'inject'));
      const after = await queueAnswer('list');
      assert.ok(!after.entries.some((e) => e.idempotencyKey === `order_${discarded.increment_id}`), 'the discarded letter is gone');
      assert.strictEqual(erpOrder(discarded.increment_id), undefined);

      await S.inject(stack, ids(nodes, 'queue stats', 'inject'));
      const stats = await queueAnswer('stats');
      assert.strictEqual(stats.counts.dead, after.count);
    });

    /** A new sandbox order with at least two units, so it can ship in two parcels. */
    async function placeMultiUnitOrder() {
      for (let i = 0; i < 20; i++) {
        const [order] = await stack.magento.placeOrders(1);
        const units = order.items.filter((it) => !it.parent_item_id).reduce((n, it) => n + it.qty_ordered, 0);
        if (units >= 2) return [order];
      }
      throw new Error('the sandbox placed no order with two units in 20 tries');
    }

    it('08 sends polled orders with erp-request once each, commits the ERP order id on the gate, a 503 retried', async function () {
      const nodes = await deployed('08');
      const poll = ids(nodes, 'poll now', 'inject');
      const placed = await stack.magento.placeOrders(2);
      await S.inject(stack, poll);
      for (const o of placed) {
        await S.waitFor(`order ${o.increment_id} in the ERP`, () => erpOrder(o.increment_id), { timeoutMs: 60000 });
        assert.strictEqual(erpOrder(o.increment_id).idempotency_key, `order_${o.increment_id}`);
      }
      const sent = await S.debugMessage(stack, nodes, 'sent to the ERP', (id) => id === erpOrder(placed[1].increment_id).erp_order_id);
      assert.strictEqual(sent, erpOrder(placed[1].increment_id).erp_order_id);
      // The next poll reads them again: the gate answers with the ERP order id erp-request's answer committed.
      await S.inject(stack, poll);
      const dupe = await S.debugMessage(stack, nodes, 'duplicates (already sent)', (g) => g && g.key === `order_${placed[0].increment_id}`);
      assert.strictEqual(dupe.status, 'duplicate');
      assert.strictEqual(dupe.result.erp_order_id, erpOrder(placed[0].increment_id).erp_order_id);
      for (const o of placed) assert.strictEqual(erpPosts(o.increment_id).length, 1, `order ${o.increment_id} was POSTed once`);

      const faults = erpFaults();
      stack.erp.setFaults({ failNextOrders: 1, status: 503, retryAfterSeconds: 1 });
      const [late] = await stack.magento.placeOrders(1);
      await S.inject(stack, poll);
      await S.waitFor(`order ${late.increment_id} in the ERP after a retry`, () => erpOrder(late.increment_id), { timeoutMs: 30000 });
      assert.strictEqual(erpFaults(), faults + 1, 'the first attempt got the 503');
      assert.deepStrictEqual(erpPosts(late.increment_id).map((r) => r.status), [201]);
      stack.erp.setFaults({ failNextOrders: 0 });
    });

    /** The order in the ERP as example 01 would have sent it (mapped, with its idempotency key). */
    async function sendToErp(order) {
      const { mapAndValidateOrder } = require('../../dist/lib/mapping');
      const mapped = mapAndValidateOrder(order);
      assert.ok(mapped.ok, JSON.stringify(mapped.problems));
      const res = await S.http('POST', `${stack.erp.url}/orders`, mapped.order, { 'Idempotency-Key': `order_${order.increment_id}` });
      assert.strictEqual(res.status, 201, JSON.stringify(res.body));
    }
  });
});
