'use strict';
/**
 * Order amounts of the Magento sandbox in every currency: Magento totals each currency from that
 * currency's own rounded line amounts, so an order's subtotal, tax, discount and grand total are the sums of
 * its rounded items plus shipping — in the order currency (EUR on the `fr` store, USD base) as in base.
 * Invoices, part invoices included, add up to the order the same way.
 */
const assert = require('assert');
const { startMagentoSandbox } = require('../../dist/sandbox/magento');
const { request } = require('./magento-helpers');

const BEARER = { Authorization: 'Bearer sandbox-token' };
const cents = (n) => Math.round(n * 100);
const sum = (rows, f) => rows.reduce((s, r) => s + cents(r[f] ?? 0), 0);

/** Every way an order's totals and its lines may disagree, in one currency (prefix '' or 'base_'). */
function totalsProblems(o, p) {
  const lines = o.items.filter((i) => !i.parent_item_id);
  const out = [];
  const expect = (field, actual, wanted) => { if (actual !== wanted) out.push(`${o.increment_id} ${p}${field}: ${actual / 100} != ${wanted / 100}`); };
  for (const it of lines) expect(`items[${it.item_id}].row_total`, cents(it[`${p}row_total`]), cents(it[`${p}price`] * it.qty_ordered));
  expect('subtotal', cents(o[`${p}subtotal`]), sum(lines, `${p}row_total`));
  expect('subtotal_incl_tax', cents(o[`${p}subtotal_incl_tax`]), sum(lines, `${p}row_total_incl_tax`));
  expect('tax_amount', cents(o[`${p}tax_amount`]), sum(lines, `${p}tax_amount`) + cents(o[`${p}shipping_tax_amount`]));
  expect('discount_amount', -cents(o[`${p}discount_amount`]), sum(lines, `${p}discount_amount`));
  const lineSum = lines.reduce((s, it) => s + cents(it[`${p}row_total`]) - cents(it[`${p}discount_amount`]) + cents(it[`${p}tax_amount`]), 0);
  expect('grand_total', cents(o[`${p}grand_total`]), lineSum + cents(o[`${p}shipping_amount`]) + cents(o[`${p}shipping_tax_amount`]));
  expect('payment.amount_ordered', cents(o.payment[`${p}amount_ordered`]), cents(o[`${p}grand_total`]));
  const applied = o.extension_attributes.applied_taxes[0];
  if (applied) expect('applied_taxes.amount', cents(applied[p ? 'base_amount' : 'amount']), cents(o[`${p}tax_amount`]));
  return out;
}

describe('Magento sandbox order totals', function () {
  this.timeout(60000);
  let s;
  before(async () => { s = await startMagentoSandbox({ orders: 600, seed: 11 }); });
  after(async () => { await s.close(); });
  beforeEach(() => s.reset());

  it('adds up in the order currency and in base for every seeded order', function () {
    const orders = Array.from({ length: s.seededOrders }, (_, i) => s.getOrder(i + 1));
    const converted = orders.filter((o) => o.order_currency_code !== o.base_currency_code);
    assert.ok(converted.length > 50, 'orders in another currency than base');
    // 2000000012 (seed 11) is one that rounded apart when each amount was converted from its base figure.
    assert.ok(orders.some((o) => o.increment_id === '2000000012' && o.order_currency_code === 'EUR' && o.base_currency_code === 'USD'));
    const problems = orders.flatMap((o) => [...totalsProblems(o, ''), ...totalsProblems(o, 'base_')]);
    assert.deepStrictEqual(problems, []);
  });

  it('converts each line from its unit price, not each total from its base figure', function () {
    const o = s.getOrder(12);
    assert.strictEqual(o.increment_id, '2000000012');
    assert.strictEqual(o.base_to_order_rate, 0.92);
    for (const it of o.items.filter((i) => !i.parent_item_id)) {
      assert.strictEqual(it.price, Math.round(it.base_price * 92) / 100);
      assert.strictEqual(cents(it.row_total), cents(it.price * it.qty_ordered));
    }
    const taxes = o.items.reduce((t, i) => t + cents(i.tax_amount), 0);
    assert.strictEqual(cents(o.tax_amount), taxes);
  });

  it('part invoices add up to the order in both currencies, the last one taking what is left', async function () {
    // An EUR order with a line of quantity > 1, so a part invoice splits a row.
    const orders = Array.from({ length: s.seededOrders }, (_, i) => s.getOrder(i + 1));
    const o = orders.find((x) => x.state === 'new' && x.order_currency_code === 'EUR' && x.base_currency_code === 'USD'
      && Number(x.discount_amount) !== 0 && x.items.some((i) => !i.parent_item_id && i.qty_ordered === 3));
    assert.ok(o, 'a new EUR order with a discount and a line of 3');
    const line = o.items.find((i) => !i.parent_item_id && i.qty_ordered === 3);
    const invoiceIds = [];
    for (const qty of [1, 1]) {
      const r = await request(s.url, 'POST', `/rest/fr/V1/order/${o.entity_id}/invoice`, { headers: BEARER, body: { items: [{ order_item_id: line.item_id, qty }] } });
      assert.strictEqual(r.status, 200, r.text);
      invoiceIds.push(r.json);
    }
    const rest = await request(s.url, 'POST', `/rest/fr/V1/order/${o.entity_id}/invoice`, { headers: BEARER, body: {} });
    assert.strictEqual(rest.status, 200, rest.text);
    invoiceIds.push(rest.json);
    const invoices = [];
    for (const id of invoiceIds) invoices.push((await request(s.url, 'GET', `/rest/fr/V1/invoices/${id}`, { headers: BEARER })).json);
    const after = s.getOrder(o.entity_id);
    for (const p of ['', 'base_']) {
      for (const inv of invoices) {
        const lines = inv.items.filter((i) => !after.items.find((x) => x.item_id === i.order_item_id).parent_item_id);
        assert.strictEqual(cents(inv[`${p}subtotal`]), sum(lines, `${p}row_total`), `${p}subtotal of invoice ${inv.entity_id}`);
        assert.strictEqual(cents(inv[`${p}tax_amount`]), sum(lines, `${p}tax_amount`));
        assert.strictEqual(-cents(inv[`${p}discount_amount`]), sum(lines, `${p}discount_amount`));
        assert.strictEqual(cents(inv[`${p}grand_total`]), cents(inv[`${p}subtotal`]) + cents(inv[`${p}discount_amount`]) + cents(inv[`${p}tax_amount`]) + cents(inv[`${p}shipping_amount`]));
      }
      for (const f of ['subtotal', 'tax_amount', 'discount_amount', 'grand_total', 'shipping_amount']) {
        assert.strictEqual(sum(invoices, `${p}${f}`), cents(after[`${p}${f}`]), `${p}${f} over the invoices`);
      }
      const lineInvoiced = invoices.flatMap((inv) => inv.items).filter((i) => i.order_item_id === line.item_id);
      assert.strictEqual(sum(lineInvoiced, `${p}row_total`), cents(line[`${p}row_total`]));
      assert.strictEqual(sum(lineInvoiced, `${p}tax_amount`), cents(line[`${p}tax_amount`]));
      const item = after.items.find((i) => i.item_id === line.item_id);
      assert.strictEqual(cents(item[`${p}row_invoiced`]), cents(item[`${p}row_total`]));
      assert.strictEqual(cents(item[`${p}discount_invoiced`]), cents(item[`${p}discount_amount`]));
    }
    assert.strictEqual(after.total_invoiced, after.grand_total);
    assert.strictEqual(after.base_total_invoiced, after.base_grand_total);
  });
});
