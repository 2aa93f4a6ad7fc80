'use strict';
/**
 * Magento 2.4 orders as GET /V1/orders/{id} returns them (Magento\Sales\Api\Data\OrderInterface), written
 * by hand with amounts worked out the way Magento's totals collectors do. Each builder returns a fresh
 * object so a test may change it.
 */

let nextId = 100;

function address(type, over = {}) {
  return {
    address_type: type,
    city: 'Austin',
    company: null,
    country_id: 'US',
    email: 'jane.doe@example.com',
    entity_id: nextId++,
    firstname: 'Jane',
    lastname: 'Doe',
    parent_id: 1,
    postcode: '78701',
    region: 'Texas',
    region_code: 'TX',
    region_id: 57,
    street: ['500 Congress Ave', 'Suite 200'],
    telephone: '512-555-0142',
    ...over,
  };
}

function item(over = {}) {
  return {
    amount_refunded: 0,
    base_amount_refunded: 0,
    base_discount_amount: 0,
    base_discount_invoiced: 0,
    base_discount_tax_compensation_amount: 0,
    base_original_price: over.price ?? 0,
    base_price: over.price ?? 0,
    base_price_incl_tax: over.price_incl_tax ?? over.price ?? 0,
    base_row_invoiced: 0,
    base_row_total: over.row_total ?? 0,
    base_row_total_incl_tax: over.row_total_incl_tax ?? over.row_total ?? 0,
    base_tax_amount: over.tax_amount ?? 0,
    base_tax_invoiced: 0,
    created_at: '2024-05-31 13:45:00',
    discount_amount: 0,
    discount_invoiced: 0,
    discount_percent: 0,
    discount_tax_compensation_amount: 0,
    free_shipping: 0,
    is_qty_decimal: 0,
    is_virtual: 0,
    order_id: 1,
    original_price: over.price ?? 0,
    price: 0,
    price_incl_tax: over.price ?? 0,
    product_id: nextId++,
    product_type: 'simple',
    qty_canceled: 0,
    qty_invoiced: 0,
    qty_ordered: 1,
    qty_refunded: 0,
    qty_shipped: 0,
    row_invoiced: 0,
    row_total: 0,
    row_total_incl_tax: over.row_total ?? 0,
    row_weight: 1,
    store_id: 1,
    tax_amount: 0,
    tax_invoiced: 0,
    tax_percent: 0,
    updated_at: '2024-05-31 13:45:00',
    weight: 1,
    ...over,
  };
}

/** A registered customer's order of two simple products, flat-rate shipping, no tax (Texas store, USD). */
function simpleOrder(over = {}) {
  const billing = address('billing');
  const shipping = address('shipping');
  const items = [
    item({ item_id: 11, sku: '24-MB01', name: 'Joust Duffle Bag', price: 20, qty_ordered: 2, row_total: 40 }),
    item({ item_id: 12, sku: '24-WG02', name: 'Didi Sport Watch', price: 15.5, qty_ordered: 1, row_total: 15.5 }),
  ];
  return {
    applied_rule_ids: '',
    base_currency_code: 'USD',
    base_discount_amount: 0,
    base_grand_total: 65.5,
    base_shipping_amount: 10,
    base_shipping_discount_amount: 0,
    base_shipping_discount_tax_compensation_amnt: 0,
    base_shipping_incl_tax: 10,
    base_shipping_tax_amount: 0,
    base_subtotal: 55.5,
    base_subtotal_incl_tax: 55.5,
    base_tax_amount: 0,
    base_to_global_rate: 1,
    base_to_order_rate: 1,
    billing_address_id: billing.entity_id,
    created_at: '2024-05-31 13:45:00',
    customer_email: 'jane.doe@example.com',
    customer_firstname: 'Jane',
    customer_group_id: 1,
    customer_id: 7,
    customer_is_guest: 0,
    customer_lastname: 'Doe',
    customer_note_notify: 1,
    discount_amount: 0,
    discount_tax_compensation_amount: 0,
    email_sent: 1,
    entity_id: 1,
    global_currency_code: 'USD',
    grand_total: 65.5,
    increment_id: '000000001',
    is_virtual: 0,
    order_currency_code: 'USD',
    protect_code: 'a1b2c3',
    quote_id: 5,
    shipping_amount: 10,
    shipping_description: 'Flat Rate - Fixed',
    shipping_discount_amount: 0,
    shipping_discount_tax_compensation_amount: 0,
    shipping_incl_tax: 10,
    shipping_tax_amount: 0,
    state: 'new',
    status: 'pending',
    store_currency_code: 'USD',
    store_id: 1,
    store_name: 'Main Website\nMain Website Store\nDefault Store View',
    store_to_base_rate: 0,
    store_to_order_rate: 0,
    subtotal: 55.5,
    subtotal_incl_tax: 55.5,
    tax_amount: 0,
    total_due: 65.5,
    total_item_count: 2,
    total_qty_ordered: 3,
    updated_at: '2024-05-31 13:45:02',
    weight: 3,
    items,
    billing_address: billing,
    payment: {
      account_status: null,
      additional_information: ['Check / Money order'],
      amount_ordered: 65.5,
      base_amount_ordered: 65.5,
      base_shipping_amount: 10,
      cc_last4: null,
      entity_id: 1,
      method: 'checkmo',
      parent_id: 1,
      shipping_amount: 10,
    },
    status_histories: [],
    extension_attributes: {
      shipping_assignments: [
        {
          shipping: {
            address: shipping,
            method: 'flatrate_flatrate',
            total: { base_shipping_amount: 10, shipping_amount: 10, shipping_incl_tax: 10, shipping_tax_amount: 0 },
          },
          items,
        },
      ],
      payment_additional_info: [{ key: 'method_title', value: 'Check / Money order' }],
      applied_taxes: [],
      item_applied_taxes: [],
    },
    ...over,
  };
}

/**
 * A German store (prices excl. tax, 19 % VAT): a configurable hoodie appears as the configurable parent
 * (price, tax) and its simple child at 0. As in real Magento the parent row already holds the simple's SKU.
 */
function configurableOrder() {
  const o = simpleOrder({
    increment_id: '000000002', entity_id: 2, base_currency_code: 'EUR', order_currency_code: 'EUR', global_currency_code: 'EUR', store_currency_code: 'EUR', store_id: 3,
    subtotal: 100, base_subtotal: 100, subtotal_incl_tax: 119, base_subtotal_incl_tax: 119,
    shipping_amount: 5, base_shipping_amount: 5, shipping_tax_amount: 0.95, base_shipping_tax_amount: 0.95, shipping_incl_tax: 5.95, base_shipping_incl_tax: 5.95,
    tax_amount: 19.95, base_tax_amount: 19.95, grand_total: 124.95, base_grand_total: 124.95,
    billing_address: address('billing', { city: 'Berlin', country_id: 'DE', region: 'Berlin', region_code: 'BER', region_id: 82, postcode: '10115', street: ['Invalidenstraße 116'], telephone: '+49 30 123456' }),
  });
  o.items = [
    item({ item_id: 21, sku: 'MH01-M-Red', name: 'Chaz Kangeroo Hoodie', product_type: 'configurable', price: 50, price_incl_tax: 59.5, qty_ordered: 2, row_total: 100, row_total_incl_tax: 119, tax_amount: 19, tax_percent: 19, product_option: { extension_attributes: { configurable_item_options: [{ option_id: '93', option_value: 58 }, { option_id: '144', option_value: 168 }] } } }),
    item({ item_id: 22, parent_item_id: 21, sku: 'MH01-M-Red', name: 'Chaz Kangeroo Hoodie-M-Red', product_type: 'simple', price: 0, price_incl_tax: 0, qty_ordered: 2, row_total: 0, row_total_incl_tax: 0, tax_amount: 0 }),
  ];
  o.items[1].parent_item = { ...o.items[0] };
  o.extension_attributes.shipping_assignments[0].shipping.address = address('shipping', { city: 'Berlin', country_id: 'DE', region: 'Berlin', region_code: 'BER', region_id: 82, postcode: '10115', street: ['Invalidenstraße 116'] });
  o.extension_attributes.shipping_assignments[0].items = o.items;
  o.payment.amount_ordered = 124.95;
  return o;
}

/** A dynamic-price bundle: the children carry the prices, the parent repeats their sum. */
function dynamicBundleOrder() {
  const o = simpleOrder({ increment_id: '000000003', entity_id: 3, subtotal: 61, base_subtotal: 61, subtotal_incl_tax: 61, base_subtotal_incl_tax: 61, grand_total: 71, base_grand_total: 71 });
  o.items = [
    item({ item_id: 31, sku: '24-WG080-24-WG084-24-WG088', name: 'Sprite Yoga Companion Kit', product_type: 'bundle', price: 61, qty_ordered: 1, row_total: 61, product_option: { extension_attributes: { bundle_options: [{ option_id: 1, option_qty: 1, option_selections: [1] }, { option_id: 2, option_qty: 2, option_selections: [5] }] } } }),
    item({ item_id: 32, parent_item_id: 31, sku: '24-WG084', name: 'Sprite Foam Yoga Brick', price: 23, qty_ordered: 1, row_total: 23 }),
    item({ item_id: 33, parent_item_id: 31, sku: '24-WG088', name: 'Sprite Foam Roller', price: 19, qty_ordered: 2, row_total: 38 }),
  ];
  return o;
}

/** A fixed-price bundle: the parent carries the price, the children are at 0. */
function fixedBundleOrder() {
  const o = simpleOrder({ increment_id: '000000004', entity_id: 4, subtotal: 99, base_subtotal: 99, subtotal_incl_tax: 99, base_subtotal_incl_tax: 99, grand_total: 109, base_grand_total: 109 });
  o.items = [
    item({ item_id: 41, sku: 'GEAR-KIT', name: 'Gym Starter Kit', product_type: 'bundle', price: 99, qty_ordered: 1, row_total: 99 }),
    item({ item_id: 42, parent_item_id: 41, sku: '24-UG06', name: 'Affirm Water Bottle', price: 0, qty_ordered: 1, row_total: 0 }),
    item({ item_id: 43, parent_item_id: 41, sku: '24-UG04', name: 'Zing Jump Rope', price: 0, qty_ordered: 1, row_total: 0 }),
  ];
  return o;
}

/** A guest with a 10 % coupon and free shipping: names only on the addresses. */
function guestDiscountOrder() {
  const o = simpleOrder({
    increment_id: '000000005', entity_id: 5, customer_id: null, customer_is_guest: 1, customer_group_id: 0, customer_firstname: null, customer_lastname: null, customer_email: 'guest.buyer@example.org',
    subtotal: 80, base_subtotal: 80, subtotal_incl_tax: 80, base_subtotal_incl_tax: 80, discount_amount: -8, base_discount_amount: -8, discount_description: 'SAVE10', coupon_code: 'SAVE10',
    shipping_amount: 0, base_shipping_amount: 0, shipping_incl_tax: 0, base_shipping_incl_tax: 0, shipping_description: 'Free Shipping - Free',
    grand_total: 72, base_grand_total: 72,
    billing_address: address('billing', { firstname: 'Sam', lastname: 'Guest', email: 'guest.buyer@example.org' }),
  });
  o.items = [item({ item_id: 51, sku: 'MS-Champ-L-Blue', name: 'Champ Tee', price: 80, qty_ordered: 1, row_total: 80, discount_amount: 8, base_discount_amount: 8, discount_percent: 10 })];
  o.extension_attributes.shipping_assignments[0].shipping.method = 'freeshipping_freeshipping';
  o.extension_attributes.shipping_assignments[0].shipping.address = address('shipping', { firstname: 'Sam', lastname: 'Guest' });
  o.payment.amount_ordered = 72;
  return o;
}

/**
 * A B2B order from a store whose catalog prices include 19 % VAT, with a 10 % discount applied to the
 * gross price: Magento books the discount's tax part as discount_tax_compensation_amount.
 */
function b2bInclTaxOrder() {
  const billing = address('billing', { company: 'Muster GmbH', vat_id: 'DE123456789', firstname: 'Max', lastname: 'Muster', city: 'München', country_id: 'DE', region: 'Bayern', region_code: 'BAY', region_id: 81, postcode: '80331', street: ['Marienplatz 8'], telephone: '+49 89 765432' });
  const o = simpleOrder({
    increment_id: '000000006', entity_id: 6, base_currency_code: 'EUR', order_currency_code: 'EUR', global_currency_code: 'EUR', store_currency_code: 'EUR', store_id: 3,
    customer_email: 'einkauf@muster.example', customer_firstname: 'Max', customer_lastname: 'Muster', customer_id: 42, customer_group_id: 3, customer_taxvat: null,
    subtotal: 100, base_subtotal: 100, subtotal_incl_tax: 119, base_subtotal_incl_tax: 119,
    discount_amount: -11.9, base_discount_amount: -11.9, discount_tax_compensation_amount: 1.9, base_discount_tax_compensation_amount: 1.9,
    shipping_amount: 10, base_shipping_amount: 10, shipping_tax_amount: 1.9, base_shipping_tax_amount: 1.9, shipping_incl_tax: 11.9, base_shipping_incl_tax: 11.9,
    tax_amount: 19, base_tax_amount: 19, grand_total: 119, base_grand_total: 119,
    shipping_description: 'United Parcel Service - Ground',
    billing_address: billing,
  });
  o.items = [
    item({ item_id: 61, sku: 'OFFICE-CHAIR-1', name: 'Office Chair', price: 100, price_incl_tax: 119, qty_ordered: 1, row_total: 100, row_total_incl_tax: 119, tax_amount: 17.1, tax_percent: 19, discount_amount: 11.9, discount_tax_compensation_amount: 1.9 }),
  ];
  o.extension_attributes.shipping_assignments[0].shipping.method = 'ups_GND';
  o.extension_attributes.shipping_assignments[0].shipping.address = address('shipping', { company: 'Muster GmbH Lager', firstname: 'Lager', lastname: 'Annahme', city: 'Augsburg', country_id: 'DE', region: 'Bayern', region_code: 'BAY', region_id: 81, postcode: '86150', street: ['Hallstraße 3', 'Tor 2'] });
  o.payment.method = 'banktransfer';
  o.payment.amount_ordered = 119;
  return o;
}

/** Cash on delivery with a fee from a COD extension (extension_attributes.cod_fee, taxed). */
function codOrder() {
  const o = simpleOrder({ increment_id: '000000007', entity_id: 7, tax_amount: 0.8, base_tax_amount: 0.8, grand_total: 70.5, base_grand_total: 70.5 });
  o.payment.method = 'cashondelivery';
  o.payment.amount_ordered = 70.5;
  Object.assign(o.extension_attributes, { cod_fee: 4.2, base_cod_fee: 4.2, cod_fee_tax: 0.8, base_cod_fee_tax: 0.8 });
  return o;
}

/**
 * A French store view of a USD website: the customer paid in EUR (rate 0.92); base_* amounts are USD.
 */
function multiCurrencyOrder() {
  const o = simpleOrder({
    increment_id: '200000001', entity_id: 8, store_id: 2, order_currency_code: 'EUR', store_currency_code: 'USD', base_currency_code: 'USD', global_currency_code: 'USD', base_to_order_rate: 0.92,
    subtotal: 46, base_subtotal: 50, subtotal_incl_tax: 46, base_subtotal_incl_tax: 50,
    shipping_amount: 4.6, base_shipping_amount: 5, shipping_incl_tax: 4.6, base_shipping_incl_tax: 5,
    grand_total: 50.6, base_grand_total: 55,
    billing_address: address('billing', { city: 'Paris', country_id: 'FR', region: 'Paris', region_code: '75', region_id: 257, postcode: '75011', street: ['12 Rue de la Roquette'], telephone: '+33 1 44 55 66 77' }),
  });
  o.items = [item({ item_id: 81, sku: 'WS03-XS-Red', name: 'Iris Workout Top', price: 46, base_price: 50, price_incl_tax: 46, base_price_incl_tax: 50, qty_ordered: 1, row_total: 46, base_row_total: 50, row_total_incl_tax: 46, base_row_total_incl_tax: 50 })];
  o.payment.amount_ordered = 50.6;
  return o;
}

/** A downloadable-only order: no shipping address, no shipping line. */
function virtualOrder() {
  const o = simpleOrder({ increment_id: '000000009', entity_id: 9, is_virtual: 1, subtotal: 9.99, base_subtotal: 9.99, subtotal_incl_tax: 9.99, base_subtotal_incl_tax: 9.99, shipping_amount: 0, base_shipping_amount: 0, shipping_incl_tax: 0, base_shipping_incl_tax: 0, shipping_description: null, grand_total: 9.99, base_grand_total: 9.99 });
  o.items = [item({ item_id: 91, sku: 'EBOOK-YOGA', name: 'Yoga eBook', product_type: 'downloadable', is_virtual: 1, price: 9.99, qty_ordered: 1, row_total: 9.99 })];
  o.extension_attributes.shipping_assignments = [{ shipping: { total: {} }, items: o.items }];
  return o;
}

/** What Magento_Weee records on an item for one fee (`weee_tax_applied` is JSON text of a list of these). */
function weeeFee(title, amount, qty, taxRate = 0) {
  const round = (v) => Math.round(v * 100) / 100;
  const inclTax = round(amount * (1 + taxRate));
  // Magento taxes the row, not the rounded unit amount times the quantity.
  const rowInclTax = round(amount * qty * (1 + taxRate));
  return {
    title, base_amount: amount, amount, row_amount: round(amount * qty), base_row_amount: round(amount * qty),
    base_amount_incl_tax: inclTax, amount_incl_tax: inclTax, row_amount_incl_tax: rowInclTax, base_row_amount_incl_tax: rowInclTax,
  };
}

/**
 * A German electronics store (19 % VAT, prices excl. tax) with a fixed product tax (FPT): two TVs with a
 * recycling fee of 2.50 each. FPT is not taxed (Magento's default) and shown as a total of its own, so the
 * subtotal leaves it out; the grand total holds it. `taxedFpt`: "Apply Tax to FPT" on, 19 % on the fee too,
 * which Magento adds to the order's tax but not to the item's.
 */
function fptOrder({ taxedFpt = false } = {}) {
  const fee = weeeFee('Recycling fee', 2.5, 2, taxedFpt ? 0.19 : 0);
  const feeTax = taxedFpt ? 0.95 : 0;
  const tax = 190 + 1.9 + feeTax;
  const grand = 1000 + 5 + 10 + tax;
  const o = simpleOrder({
    increment_id: taxedFpt ? '000000011' : '000000010', entity_id: taxedFpt ? 11 : 10, base_currency_code: 'EUR', order_currency_code: 'EUR', global_currency_code: 'EUR', store_currency_code: 'EUR',
    subtotal: 1000, base_subtotal: 1000, subtotal_incl_tax: 1195 + (taxedFpt ? 0.95 : 0), base_subtotal_incl_tax: 1195 + (taxedFpt ? 0.95 : 0),
    shipping_amount: 10, base_shipping_amount: 10, shipping_tax_amount: 1.9, base_shipping_tax_amount: 1.9, shipping_incl_tax: 11.9, base_shipping_incl_tax: 11.9,
    tax_amount: tax, base_tax_amount: tax, grand_total: grand, base_grand_total: grand,
  });
  o.items = [item({
    item_id: 101, sku: 'TV-55-OLED', name: 'OLED TV 55"', price: 500, price_incl_tax: 595, qty_ordered: 2, row_total: 1000, row_total_incl_tax: 1190, tax_amount: 190, tax_percent: 19,
    weee_tax_applied: JSON.stringify([fee]), weee_tax_applied_amount: 2.5, base_weee_tax_applied_amount: 2.5, weee_tax_applied_row_amount: 5, base_weee_tax_applied_row_amnt: 5,
    weee_tax_disposition: 0, base_weee_tax_disposition: 0, weee_tax_row_disposition: 0, base_weee_tax_row_disposition: 0,
  })];
  o.extension_attributes.shipping_assignments[0].items = o.items;
  o.payment.amount_ordered = grand;
  return o;
}

/**
 * Adobe Commerce gift wrapping (19 % on it): a wrapped order (5.00), two wrapped items (1.50 each) and a printed
 * card (2.00), each with its tax in extension_attributes; the base amounts are spelt gw_base_price, not base_gw_price.
 */
function giftWrappedOrder() {
  const tax = 0.95 + 0.57 + 0.38;
  const o = simpleOrder({ increment_id: '000000012', entity_id: 12, tax_amount: tax, base_tax_amount: tax, grand_total: 65.5 + 10 + tax, base_grand_total: 65.5 + 10 + tax });
  Object.assign(o.extension_attributes, {
    gw_id: 1, gw_allow_gift_receipt: 0, gw_add_card: 1,
    gw_price: 5, gw_base_price: 5, gw_tax_amount: 0.95, gw_base_tax_amount: 0.95, gw_price_incl_tax: 5.95, gw_base_price_incl_tax: 5.95,
    gw_items_price: 3, gw_items_base_price: 3, gw_items_tax_amount: 0.57, gw_items_base_tax_amount: 0.57,
    gw_card_price: 2, gw_card_base_price: 2, gw_card_tax_amount: 0.38, gw_card_base_tax_amount: 0.38,
  });
  o.payment.amount_ordered = o.grand_total;
  return o;
}

module.exports = {
  address,
  giftWrappedOrder,
  weeeFee,
  fptOrder,
  item,
  simpleOrder,
  configurableOrder,
  dynamicBundleOrder,
  fixedBundleOrder,
  guestDiscountOrder,
  b2bInclTaxOrder,
  codOrder,
  multiCurrencyOrder,
  virtualOrder,
  all: () => [simpleOrder(), configurableOrder(), dynamicBundleOrder(), fixedBundleOrder(), guestDiscountOrder(), b2bInclTaxOrder(), codOrder(), multiCurrencyOrder(), virtualOrder(), fptOrder(), fptOrder({ taxedFpt: true }), giftWrappedOrder()],
};
