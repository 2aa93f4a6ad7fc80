'use strict';
const assert = require('assert');
const { planShipment, planInvoice, nextInvoiceCarriesShipping, validateShipment, validateOrderUpdate, targetsForSku } = require('../../dist/lib/fulfilment');

// An order as `GET /V1/orders?fields=...` answers it: a simple, a configurable (parent + child with the
// same SKU) and a virtual item.
function order(overrides = {}) {
  return {
    entity_id: 7, increment_id: '000000007', state: 'processing', status: 'processing', shipping_amount: 10, shipping_invoiced: 0,
    items: [
      { item_id: 11, sku: 'BAG-1', product_type: 'simple', qty_ordered: 3, qty_shipped: 0, qty_invoiced: 0, qty_canceled: 0, qty_refunded: 0, parent_item_id: null },
      { item_id: 12, sku: 'MH01-M-Black', product_type: 'configurable', qty_ordered: 2, qty_shipped: 0, qty_invoiced: 0, qty_canceled: 0, qty_refunded: 0, parent_item_id: null },
      { item_id: 13, sku: 'MH01-M-Black', product_type: 'simple', qty_ordered: 2, qty_shipped: 0, qty_invoiced: 0, qty_canceled: 0, qty_refunded: 0, parent_item_id: 12 },
      { item_id: 14, sku: 'EGIFT', product_type: 'virtual', qty_ordered: 1, qty_shipped: 0, qty_invoiced: 0, qty_canceled: 0, qty_refunded: 0, parent_item_id: null, is_virtual: true },
    ],
    ...overrides,
  };
}

describe('fulfilment plan', () => {
  it('resolves a configurable child SKU to the parent item id (Magento ships the parent)', () => {
    const { plan, problems } = planShipment(order(), [{ sku: 'MH01-M-Black', qty: 1 }]);
    assert.deepStrictEqual(problems, []);
    assert.deepStrictEqual(plan.items, [{ order_item_id: 12, qty: 1 }]);
    assert.strictEqual(plan.lines[0].items[0].via_parent, true);
  });

  it('adds up lines with one SKU and matches SKUs case-insensitively when nothing matches exactly', () => {
    const { plan } = planShipment(order(), [{ sku: 'bag-1', qty: 1 }, { sku: 'BAG-1', qty: 2 }]);
    assert.deepStrictEqual(plan.items, [{ order_item_id: 11, qty: 3 }]);
  });

  it('rejects over-shipping per line with what is left, naming the line and SKU', () => {
    const o = order();
    o.items[0].qty_shipped = 2;
    const { plan, problems } = planShipment(o, [{ sku: 'MH01-M-Black', qty: 1 }, { sku: 'BAG-1', qty: 2 }]);
    assert.strictEqual(plan, undefined);
    assert.strictEqual(problems.length, 1);
    assert.strictEqual(problems[0].field, 'lines[1].qty');
    assert.strictEqual(problems[0].sku, 'BAG-1');
    assert.match(problems[0].reason, /2 is more than the 1 still to ship of "BAG-1".*ordered 3, shipped 2/);
  });

  it('counts canceled and refunded quantities as not shippable', () => {
    const o = order();
    o.items[0].qty_canceled = 1;
    o.items[0].qty_refunded = 1;
    assert.strictEqual(planShipment(o, [{ sku: 'BAG-1', qty: 2 }]).problems[0].field, 'lines[0].qty');
    assert.ok(planShipment(o, [{ sku: 'BAG-1', qty: 1 }]).plan);
  });

  it('rejects unknown and virtual SKUs with every problem listed', () => {
    const { problems } = planShipment(order(), [{ sku: 'NOPE', qty: 1 }, { sku: 'EGIFT', qty: 1 }, { sku: 'BAG-1', qty: 9 }]);
    assert.deepStrictEqual(problems.map((p) => p.field), ['lines[0].sku', 'lines[1].sku', 'lines[2].qty']);
    assert.match(problems[0].reason, /"NOPE" is not an item of order 000000007/);
    assert.match(problems[1].reason, /virtual/);
  });

  it('fills several order items with one SKU in item order', () => {
    const o = order();
    o.items.push({ item_id: 15, sku: 'BAG-1', product_type: 'simple', qty_ordered: 2, qty_shipped: 0, qty_invoiced: 0, qty_canceled: 0, qty_refunded: 0, parent_item_id: null });
    const { plan } = planShipment(o, [{ sku: 'BAG-1', qty: 4 }]);
    assert.deepStrictEqual(plan.items, [{ order_item_id: 11, qty: 3 }, { order_item_id: 15, qty: 1 }]);
  });

  it('invoices exactly the shipped quantities, capped at what is left to invoice', () => {
    const o = order();
    o.items[0].qty_invoiced = 2;
    assert.deepStrictEqual(planInvoice(o, [{ order_item_id: 11, qty: 2 }, { order_item_id: 12, qty: 2 }]), [{ order_item_id: 11, qty: 1 }, { order_item_id: 12, qty: 2 }]);
    o.items[0].qty_invoiced = 3;
    assert.deepStrictEqual(planInvoice(o, [{ order_item_id: 11, qty: 1 }]), []);
  });

  it('knows the first invoice carries the shipping fee and later ones do not', () => {
    assert.strictEqual(nextInvoiceCarriesShipping(order()), true);
    assert.strictEqual(nextInvoiceCarriesShipping(order({ shipping_invoiced: 10 })), false);
    assert.strictEqual(nextInvoiceCarriesShipping(order({ shipping_amount: 0 })), false);
  });

  it('targets deduplicate parent and child of one configurable line', () => {
    assert.deepStrictEqual(targetsForSku(order(), 'MH01-M-Black').map((t) => t.item.item_id), [12]);
  });
});

describe('fulfilment validation', () => {
  it('accepts the ERP shipment shape and normalises it', () => {
    const s = validateShipment({ shipment_id: 42, order_number: ' 000000007 ', lines: [{ sku: 'BAG-1', qty: '2' }], tracks: [{ carrier: 'ups', number: '1Z' }], invoice: true });
    assert.deepStrictEqual(s, { shipment_id: '42', order_number: '000000007', lines: [{ sku: 'BAG-1', qty: 2 }], tracks: [{ carrier: 'ups', title: 'ups', number: '1Z' }], invoice: true });
  });

  it('names every bad field, line index and SKU at once', () => {
    try {
      validateShipment({ order_number: '1', lines: [{ sku: 'A', qty: 0 }, { qty: 1 }, { sku: 'B', qty: 'x' }], tracks: [{ carrier: 'u p s', number: '' }] });
      assert.fail('should throw');
    } catch (err) {
      assert.strictEqual(err.name, 'ValidationError');
      assert.strictEqual(err.field, 'shipment_id');
      const fields = err.details.problems.map((p) => p.field);
      assert.deepStrictEqual(fields, ['shipment_id', 'lines[0].qty', 'lines[1].sku', 'lines[2].qty', 'tracks[0].carrier', 'tracks[0].number']);
      assert.match(err.message, /lines\[0\]\.qty \(SKU "A"\): must be more than 0/);
    }
  });

  it('refuses a payload that is not an object', () => {
    assert.throws(() => validateShipment('x'), (e) => e.field === 'payload' && e.errorClass === 'validation');
  });

  it('validates order updates with the node defaults', () => {
    assert.deepStrictEqual(validateOrderUpdate({ order_number: '5', comment: 'packed' }, { action: 'comment' }),
      { order_number: '5', action: 'comment', comment: 'packed', notify: false, visible_on_front: false });
    assert.throws(() => validateOrderUpdate({ order_number: '5', action: 'ship' }), /action: "ship" is not one of comment, cancel, hold, unhold/);
    assert.throws(() => validateOrderUpdate({ order_number: '5', action: 'comment' }), /comment: is required/);
    assert.throws(() => validateOrderUpdate({ order_number: '5', action: 'comment', comment: 'x', status: 'Bad Status' }), /status:/);
  });
});
