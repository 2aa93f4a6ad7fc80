/**
 * Mapping configuration: presets that work with no configuration, and the check that turns an editor's
 * (or a flow file's) loose settings into MappingOptions, naming the setting at fault when one is wrong.
 */
import Mustache from 'mustache';
import { ValidationError } from '../errors';
import { FeeSource, FieldRule, LookupTable, MappingOptions, UnknownCodePolicy } from './types';

/**
 * Fees and deductions the common Magento extensions store on the order. Each fee lists the places
 * extensions are known to use, first found wins; a store with another module adds its own entry.
 * Adobe Commerce keeps gift cards, store credit and reward points in extension_attributes.
 */
export const DEFAULT_FEES: readonly FeeSource[] = Object.freeze([
  {
    type: 'cash_on_delivery',
    code: 'COD',
    description: 'Cash on delivery fee',
    amount: ['extension_attributes.cod_fee', 'cod_fee', 'extension_attributes.cash_on_delivery_fee', 'cash_on_delivery_fee', 'extension_attributes.msp_cod_amount', 'msp_cod_amount'],
    tax: ['extension_attributes.cod_fee_tax', 'cod_fee_tax', 'extension_attributes.cod_tax_amount', 'cod_tax_amount', 'extension_attributes.msp_cod_tax_amount', 'msp_cod_tax_amount'],
  },
  {
    type: 'payment_fee',
    code: 'PAYMENT_FEE',
    description: 'Payment fee',
    amount: ['extension_attributes.payment_fee', 'payment_fee', 'extension_attributes.payment_fee_amount', 'payment_fee_amount'],
    tax: ['extension_attributes.payment_fee_tax', 'payment_fee_tax', 'extension_attributes.payment_fee_tax_amount', 'payment_fee_tax_amount'],
  },
  // Adobe Commerce gift wrapping (Magento_GiftWrapping): for the order, for its items, and a printed card; net, tax apart.
  {
    type: 'gift_wrapping',
    code: 'GIFT_WRAPPING',
    description: 'Gift wrapping',
    amount: ['extension_attributes.gw_price'],
    baseAmount: ['extension_attributes.gw_base_price'],
    tax: ['extension_attributes.gw_tax_amount'],
    baseTax: ['extension_attributes.gw_base_tax_amount'],
  },
  {
    type: 'gift_wrapping_items',
    code: 'GIFT_WRAPPING_ITEMS',
    description: 'Gift wrapping of items',
    amount: ['extension_attributes.gw_items_price'],
    baseAmount: ['extension_attributes.gw_items_base_price'],
    tax: ['extension_attributes.gw_items_tax_amount'],
    baseTax: ['extension_attributes.gw_items_base_tax_amount'],
  },
  {
    type: 'printed_card',
    code: 'PRINTED_CARD',
    description: 'Printed card',
    amount: ['extension_attributes.gw_card_price'],
    baseAmount: ['extension_attributes.gw_card_base_price'],
    tax: ['extension_attributes.gw_card_tax_amount'],
    baseTax: ['extension_attributes.gw_card_base_tax_amount'],
  },
  {
    type: 'gift_card',
    code: 'GIFT_CARD',
    description: 'Gift card',
    amount: ['extension_attributes.gift_cards_amount', 'gift_cards_amount'],
    deduction: true,
  },
  {
    type: 'store_credit',
    code: 'STORE_CREDIT',
    description: 'Store credit',
    amount: ['extension_attributes.customer_balance_amount', 'customer_balance_amount'],
    deduction: true,
  },
  {
    type: 'reward_points',
    code: 'REWARD_POINTS',
    description: 'Reward points',
    amount: ['extension_attributes.reward_currency_amount', 'reward_currency_amount'],
    deduction: true,
  },
] as FeeSource[]);

function passthrough(): LookupTable {
  return { table: {}, onUnknown: 'passthrough' };
}

/** `standard`: net amounts, order currency, Magento codes passed through — works with no configuration. */
export const PRESETS: Readonly<Record<string, MappingOptions>> = Object.freeze({
  standard: {
    amounts: 'excl_tax',
    currency: 'order',
    bundles: 'auto',
    streetSeparator: '\n',
    paymentMethods: passthrough(),
    shippingMethods: passthrough(),
    statuses: passthrough(),
    shippingCode: '',
    fees: DEFAULT_FEES.map((f) => ({ ...f })),
    fieldRules: [],
    checkTotals: true,
    totalsTolerance: 0.01,
  },
  /** For ERPs that book gross (B2C) prices. */
  gross: {
    amounts: 'incl_tax',
    currency: 'order',
    bundles: 'auto',
    streetSeparator: '\n',
    paymentMethods: passthrough(),
    shippingMethods: passthrough(),
    statuses: passthrough(),
    shippingCode: '',
    fees: DEFAULT_FEES.map((f) => ({ ...f })),
    fieldRules: [],
    checkTotals: true,
    totalsTolerance: 0.01,
  },
  /** Every payment and shipping method must be in the lookup tables: an unknown one is an invalid order. */
  strict: {
    amounts: 'excl_tax',
    currency: 'order',
    bundles: 'auto',
    streetSeparator: '\n',
    paymentMethods: { table: {}, onUnknown: 'error' },
    shippingMethods: { table: {}, onUnknown: 'error' },
    statuses: passthrough(),
    shippingCode: '',
    fees: DEFAULT_FEES.map((f) => ({ ...f })),
    fieldRules: [],
    checkTotals: true,
    totalsTolerance: 0.01,
  },
});

export type PresetName = keyof typeof PRESETS;

/** A deep copy of a preset, safe to modify. */
export function preset(name: string = 'standard'): MappingOptions {
  const base = PRESETS[name];
  if (!base) throw new ValidationError('preset', `must be one of: ${Object.keys(PRESETS).join(', ')}`);
  return JSON.parse(JSON.stringify(base));
}

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

/** Checks a dotted path a rule writes or reads: no empty segment, nothing that reaches Object.prototype. */
export function checkPath(path: unknown, field: string): string {
  if (typeof path !== 'string' || path.trim() === '') throw new ValidationError(field, 'must be a dotted path such as customer.company');
  const segments = path.trim().split('.');
  for (const segment of segments) {
    if (segment === '') throw new ValidationError(field, `"${path}" has an empty segment`);
    if (FORBIDDEN_SEGMENTS.has(segment)) throw new ValidationError(field, `"${path}" may not use "${segment}"`);
  }
  return path.trim();
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string, fallback: T): T {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new ValidationError(field, `must be one of: ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
}

/**
 * A lookup table from an object `{magento: erp}` or an array of rows `[{from, to}]` (the editor's list).
 */
function lookupTable(value: unknown, fallback: LookupTable, field: string): LookupTable {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'object') throw new ValidationError(field, 'must be an object with table, onUnknown and default');
  const v = value as Record<string, unknown>;
  const table: Record<string, string> = Object.create(null);
  const rows = v.table ?? {};
  if (Array.isArray(rows)) {
    rows.forEach((row, i) => {
      const r = row as Record<string, unknown>;
      if (!r || typeof r.from !== 'string' || r.from.trim() === '') throw new ValidationError(`${field}.table[${i}].from`, 'must be a Magento code');
      if (typeof r.to !== 'string' || r.to.trim() === '') throw new ValidationError(`${field}.table[${i}].to`, 'must be an ERP code');
      table[r.from.trim()] = r.to.trim();
    });
  } else if (typeof rows === 'object') {
    for (const [from, to] of Object.entries(rows as Record<string, unknown>)) {
      if (typeof to !== 'string' || to.trim() === '') throw new ValidationError(`${field}.table.${from}`, 'must be an ERP code');
      table[from] = to.trim();
    }
  } else {
    throw new ValidationError(`${field}.table`, 'must be an object of Magento code → ERP code');
  }
  const onUnknown = oneOf<UnknownCodePolicy>(v.onUnknown, ['passthrough', 'default', 'error'], `${field}.onUnknown`, fallback.onUnknown);
  const def = typeof v.default === 'string' && v.default.trim() !== '' ? v.default.trim() : undefined;
  if (onUnknown === 'default' && def === undefined) throw new ValidationError(`${field}.default`, 'is required when unknown codes use the default');
  return def === undefined ? { table: { ...table }, onUnknown } : { table: { ...table }, onUnknown, default: def };
}

function stringList(value: unknown, field: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) throw new ValidationError(field, 'must be one or more dotted paths');
  return list.map((p, i) => checkPath(p, `${field}[${i}]`));
}

function fees(value: unknown, fallback: FeeSource[]): FeeSource[] {
  if (value === undefined || value === null) return fallback;
  if (!Array.isArray(value)) throw new ValidationError('fees', 'must be a list of fee sources');
  return value.map((raw, i) => {
    const f = raw as Record<string, unknown>;
    const field = `fees[${i}]`;
    if (!f || typeof f !== 'object') throw new ValidationError(field, 'must be an object');
    if (typeof f.type !== 'string' || !/^[a-z][a-z0-9_]*$/.test(f.type)) throw new ValidationError(`${field}.type`, 'must be a lower-case code such as cash_on_delivery');
    if (typeof f.code !== 'string' || f.code.trim() === '') throw new ValidationError(`${field}.code`, 'must be the ERP code of the line');
    const amount = stringList(f.amount, `${field}.amount`);
    const tax = f.tax === undefined || f.tax === null ? undefined : stringList(f.tax, `${field}.tax`);
    const baseAmount = twins(f.baseAmount, amount, `${field}.baseAmount`);
    const baseTax = twins(f.baseTax, tax, `${field}.baseTax`);
    return {
      type: f.type,
      code: f.code.trim(),
      description: typeof f.description === 'string' ? f.description : f.type,
      amount,
      tax,
      ...(baseAmount && { baseAmount }),
      ...(baseTax && { baseTax }),
      includesTax: f.includesTax === true,
      deduction: f.deduction === true,
    };
  });
}

/** A fee's base-currency twins of `paths`, one for each (none given: `base_` before each path's last segment). */
function twins(value: unknown, paths: string[] | undefined, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = stringList(value, field);
  if (list.length !== (paths?.length ?? 0)) throw new ValidationError(field, `must give one base-currency path for each of the ${paths?.length ?? 0} path(s) it stands beside`);
  return list;
}

function fieldRules(value: unknown): FieldRule[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ValidationError('fieldRules', 'must be a list of rules');
  return value.map((raw, i) => {
    const r = raw as Record<string, unknown>;
    const field = `fieldRules[${i}]`;
    if (!r || typeof r !== 'object') throw new ValidationError(field, 'must be an object');
    const target = checkPath(r.target, `${field}.target`);
    const hasSource = typeof r.source === 'string' && r.source.trim() !== '';
    const hasTemplate = typeof r.template === 'string' && r.template !== '';
    if (hasSource === hasTemplate) throw new ValidationError(field, 'needs either a source path or a template (not both)');
    const rule: FieldRule = {
      target,
      scope: oneOf(r.scope, ['order', 'item'] as const, `${field}.scope`, 'order'),
      onMissing: oneOf(r.onMissing, ['skip', 'null', 'error'] as const, `${field}.onMissing`, 'skip'),
    };
    if (hasSource) rule.source = checkPath(r.source, `${field}.source`);
    else {
      try {
        Mustache.parse(r.template as string);
      } catch (err) {
        throw new ValidationError(`${field}.template`, `is not a valid mustache template: ${(err as Error).message}`);
      }
      rule.template = r.template as string;
    }
    return rule;
  });
}

/**
 * Full MappingOptions from a preset name plus overrides (anything omitted comes from the preset).
 * Throws a ValidationError naming the first wrong setting.
 */
export function resolveOptions(input: Partial<Record<keyof MappingOptions, unknown>> & { preset?: string } = {}): MappingOptions {
  const base = preset(input.preset || 'standard');
  const tolerance = input.totalsTolerance === undefined || input.totalsTolerance === '' ? base.totalsTolerance : Number(input.totalsTolerance);
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new ValidationError('totalsTolerance', 'must be a number ≥ 0');
  if (input.streetSeparator !== undefined && typeof input.streetSeparator !== 'string') throw new ValidationError('streetSeparator', 'must be a string');
  if (input.shippingCode !== undefined && typeof input.shippingCode !== 'string') throw new ValidationError('shippingCode', 'must be a string');
  return {
    amounts: oneOf(input.amounts, ['excl_tax', 'incl_tax'] as const, 'amounts', base.amounts),
    currency: oneOf(input.currency, ['order', 'base'] as const, 'currency', base.currency),
    bundles: oneOf(input.bundles, ['auto', 'parent', 'children'] as const, 'bundles', base.bundles),
    streetSeparator: (input.streetSeparator as string | undefined) ?? base.streetSeparator,
    paymentMethods: lookupTable(input.paymentMethods, base.paymentMethods, 'paymentMethods'),
    shippingMethods: lookupTable(input.shippingMethods, base.shippingMethods, 'shippingMethods'),
    statuses: lookupTable(input.statuses, base.statuses, 'statuses'),
    shippingCode: ((input.shippingCode as string | undefined) ?? base.shippingCode).trim(),
    fees: fees(input.fees, base.fees),
    fieldRules: fieldRules(input.fieldRules),
    checkTotals: input.checkTotals === undefined ? base.checkTotals : input.checkTotals !== false && input.checkTotals !== 'false',
    totalsTolerance: tolerance,
  };
}
