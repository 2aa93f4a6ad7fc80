/**
 * The map-order editor's settings (lookup tables as rows, field rules as rows, fees as JSON text) →
 * MappingOptions. Kept out of the node so flows built in code and tests read settings the same way.
 */
import { ValidationError } from '../errors';
import { resolveOptions } from './options';
import { MappingOptions } from './types';

export interface LookupRow { from: string; to: string }
export interface RuleRow { target: string; kind?: 'source' | 'template'; value?: string; scope?: 'order' | 'item'; onMissing?: 'skip' | 'null' | 'error' }

export interface MapOrderConfig {
  preset?: string;
  amounts?: string;
  currency?: string;
  bundles?: string;
  street?: 'newline' | 'comma' | 'space';
  paymentMethods?: LookupRow[];
  paymentUnknown?: string;
  paymentDefault?: string;
  shippingMethods?: LookupRow[];
  shippingUnknown?: string;
  shippingDefault?: string;
  statuses?: LookupRow[];
  statusUnknown?: string;
  statusDefault?: string;
  shippingCode?: string;
  fees?: string;
  fieldRules?: RuleRow[];
  checkTotals?: boolean;
  totalsTolerance?: number | string;
}

const SEPARATORS: Record<string, string> = { newline: '\n', comma: ', ', space: ' ' };

/** The editor's settings as MappingOptions; throws a ValidationError naming the setting at fault. */
export function optionsFromConfig(config: MapOrderConfig): MappingOptions {
  const table = (rows: LookupRow[] | undefined, onUnknown: string | undefined, def: string | undefined) => ({
    table: Array.isArray(rows) ? rows.filter((r) => r && (r.from || r.to)) : [],
    onUnknown: onUnknown || undefined,
    default: def,
  });
  let fees: unknown;
  if (typeof config.fees === 'string' && config.fees.trim() !== '') {
    try {
      fees = JSON.parse(config.fees);
    } catch (err) {
      throw new ValidationError('fees', `is not valid JSON: ${(err as Error).message}`);
    }
  }
  const rules = (Array.isArray(config.fieldRules) ? config.fieldRules : []).map((r) => ({
    target: r.target,
    scope: r.scope,
    onMissing: r.onMissing,
    ...(r.kind === 'template' ? { template: r.value } : { source: r.value }),
  }));
  return resolveOptions({
    preset: config.preset || 'standard',
    amounts: config.amounts || undefined,
    currency: config.currency || undefined,
    bundles: config.bundles || undefined,
    streetSeparator: config.street ? SEPARATORS[config.street] ?? '\n' : undefined,
    paymentMethods: table(config.paymentMethods, config.paymentUnknown, config.paymentDefault),
    shippingMethods: table(config.shippingMethods, config.shippingUnknown, config.shippingDefault),
    statuses: table(config.statuses, config.statusUnknown, config.statusDefault),
    shippingCode: config.shippingCode ?? undefined,
    fees,
    fieldRules: rules,
    checkTotals: config.checkTotals,
    totalsTolerance: config.totalsTolerance,
  });
}
