'use strict';
const assert = require('assert');
const { resolveOptions, preset, PRESETS, DEFAULT_FEES, optionsFromConfig } = require('../../dist/lib/mapping');

const invalid = (fn, field, reason) =>
  assert.throws(fn, (err) => {
    assert.strictEqual(err.name, 'ValidationError');
    assert.strictEqual(err.field, field);
    if (reason) assert.match(err.message, reason);
    return true;
  });

describe('mapping options (lib/mapping/options, editor-config)', function () {
  it('works with no configuration: the standard preset', function () {
    const o = resolveOptions();
    assert.deepStrictEqual(
      [o.amounts, o.currency, o.bundles, o.streetSeparator, o.paymentMethods.onUnknown, o.shippingMethods.onUnknown, o.checkTotals, o.totalsTolerance],
      ['excl_tax', 'order', 'auto', '\n', 'passthrough', 'passthrough', true, 0.01],
    );
    assert.deepStrictEqual(o.fees.map((f) => f.type), ['cash_on_delivery', 'payment_fee', 'gift_wrapping', 'gift_wrapping_items', 'printed_card', 'gift_card', 'store_credit', 'reward_points']);
    assert.deepStrictEqual(Object.keys(PRESETS), ['standard', 'gross', 'strict']);
    assert.strictEqual(resolveOptions({ preset: 'gross' }).amounts, 'incl_tax');
    assert.strictEqual(resolveOptions({ preset: 'strict' }).paymentMethods.onUnknown, 'error');
  });

  it('hands out copies: changing one does not change the preset', function () {
    const a = preset('standard');
    a.fees.pop();
    a.paymentMethods.table.x = 'y';
    assert.strictEqual(preset('standard').fees.length, DEFAULT_FEES.length);
    assert.deepStrictEqual(preset('standard').paymentMethods.table, {});
  });

  it('names the setting at fault', function () {
    invalid(() => resolveOptions({ preset: 'fancy' }), 'preset');
    invalid(() => resolveOptions({ amounts: 'gross' }), 'amounts', /excl_tax, incl_tax/);
    invalid(() => resolveOptions({ currency: 'EUR' }), 'currency');
    invalid(() => resolveOptions({ totalsTolerance: -1 }), 'totalsTolerance');
    invalid(() => resolveOptions({ paymentMethods: { table: {}, onUnknown: 'default' } }), 'paymentMethods.default');
    invalid(() => resolveOptions({ shippingMethods: { table: [{ from: 'flatrate_flatrate', to: '' }] } }), 'shippingMethods.table[0].to');
    invalid(() => resolveOptions({ fees: [{ type: 'cod', code: 'C', amount: [] }] }), 'fees[0].amount');
    invalid(() => resolveOptions({ fees: [{ type: 'cod', code: 'C', amount: ['a..b'] }] }), 'fees[0].amount[0]');
    invalid(() => resolveOptions({ fees: [{ type: 'cod', code: 'C', amount: ['a', 'b'], baseAmount: ['base_a'] }] }), 'fees[0].baseAmount');
    invalid(() => resolveOptions({ fees: [{ type: 'cod', code: 'C', amount: ['a'], baseTax: ['base_t'] }] }), 'fees[0].baseTax');
    assert.deepStrictEqual(resolveOptions({ fees: [{ type: 'cod', code: 'C', amount: 'x.fee', baseAmount: 'x.fee_base' }] }).fees[0].baseAmount, ['x.fee_base']);
    invalid(() => resolveOptions({ fieldRules: [{ target: 'x' }] }), 'fieldRules[0]', /source path or a template/);
    invalid(() => resolveOptions({ fieldRules: [{ target: 'x', template: '{{#open}}' }] }), 'fieldRules[0].template', /mustache/);
    invalid(() => resolveOptions({ fieldRules: [{ target: '__proto__.polluted', source: 'increment_id' }] }), 'fieldRules[0].target');
    invalid(() => resolveOptions({ fieldRules: [{ target: 'x', source: 'constructor.prototype' }] }), 'fieldRules[0].source');
    invalid(() => resolveOptions({ fieldRules: [{ target: 'x', source: 'a', scope: 'line' }] }), 'fieldRules[0].scope');
  });

  it('reads the editor\'s rows: lookup tables, field rules, fee JSON, street choice', function () {
    const o = optionsFromConfig({
      preset: 'standard',
      amounts: 'incl_tax',
      street: 'comma',
      paymentMethods: [{ from: 'checkmo', to: 'CHQ' }, { from: '', to: '' }],
      paymentUnknown: 'default',
      paymentDefault: 'OTHER',
      shippingMethods: [],
      shippingUnknown: 'error',
      statuses: [],
      statusUnknown: '',
      fieldRules: [{ target: 'reference', kind: 'template', value: '{{increment_id}}', scope: 'order', onMissing: 'skip' }],
      fees: '[{"type":"payment_fee","code":"PF","amount":"extension_attributes.klarna_fee"}]',
      checkTotals: true,
      totalsTolerance: '0.02',
    });
    assert.strictEqual(o.amounts, 'incl_tax');
    assert.strictEqual(o.streetSeparator, ', ');
    assert.deepStrictEqual(o.paymentMethods, { table: { checkmo: 'CHQ' }, onUnknown: 'default', default: 'OTHER' });
    assert.strictEqual(o.shippingMethods.onUnknown, 'error');
    assert.strictEqual(o.statuses.onUnknown, 'passthrough');
    assert.deepStrictEqual(o.fieldRules, [{ target: 'reference', scope: 'order', onMissing: 'skip', template: '{{increment_id}}' }]);
    assert.deepStrictEqual(o.fees, [{ type: 'payment_fee', code: 'PF', description: 'payment_fee', amount: ['extension_attributes.klarna_fee'], tax: undefined, includesTax: false, deduction: false }]);
    assert.strictEqual(o.totalsTolerance, 0.02);
    invalid(() => optionsFromConfig({ fees: '[not json' }), 'fees', /not valid JSON/);
  });

  it('an empty editor configuration is the standard preset', function () {
    assert.deepStrictEqual(optionsFromConfig({}), resolveOptions());
  });
});
