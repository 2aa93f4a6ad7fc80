/**
 * Field rules: after the built-in mapping, set ERP fields from a Magento path or a mustache template, so
 * an integrator fits the canonical order to an ERP without code. Templates render without HTML escaping
 * (the result is JSON, not a web page).
 */
import Mustache from 'mustache';
import { ErpOrder, FieldRule, MagentoOrder, MagentoOrderItem, MappingProblem } from './types';
import { getPath, setPath } from './paths';

const NO_ESCAPE = { escape: (value: unknown) => String(value) };

function evaluate(rule: FieldRule, view: Record<string, unknown>): unknown {
  if (rule.template !== undefined) return Mustache.render(rule.template, view, undefined, NO_ESCAPE);
  return getPath(view, rule.source as string);
}

function apply(rule: FieldRule, view: Record<string, unknown>, target: Record<string, unknown>, base: string, problems: MappingProblem[]): void {
  const value = evaluate(rule, view);
  // Point at the Magento field the rule wanted, so the message says what the order lacks.
  const where = rule.source ? `${base}/${rule.source.split('.').join('/')}` : base || '/';
  const missing = value === undefined || (rule.template !== undefined && value === '');
  if (missing) {
    if (rule.onMissing === 'null') setPath(target, rule.target, null);
    else if (rule.onMissing === 'error') {
      problems.push({ field: where, reason: `field rule for ${rule.target} found no value at ${rule.source ?? 'its template'}` });
    }
    return;
  }
  try {
    setPath(target, rule.target, value);
  } catch (err) {
    problems.push({ field: where, reason: `field rule for ${rule.target} cannot be applied: ${(err as Error).message}` });
  }
}

/**
 * Applies the rules in order (a later rule sees what an earlier one set, through `erp`). Item rules run
 * once per ERP line, with the Magento item that carried the line's amounts, its `parent`, a configurable's
 * `child` and the `order`.
 */
export function applyFieldRules(
  rules: FieldRule[],
  raw: MagentoOrder,
  erp: ErpOrder,
  lineSources: Array<{ item: MagentoOrderItem; parent?: MagentoOrderItem; child?: MagentoOrderItem; index: number }>,
  problems: MappingProblem[],
): void {
  for (const rule of rules) {
    if (rule.scope === 'item') {
      erp.items.forEach((line, i) => {
        const source = lineSources[i];
        const view = { ...source.item, parent: source.parent ?? null, child: source.child ?? null, order: raw, erp: line };
        apply(rule, view, line, `/items/${source.index}`, problems);
      });
    } else {
      const view = { ...raw, order: raw, erp };
      apply(rule, view, erp, '', problems);
    }
  }
}
