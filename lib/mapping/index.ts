/**
 * The whole order mapping as nodes use it: the Magento order checked against `magento-order`, mapped,
 * and the result checked against `erp-order`, with every problem of every stage in one ValidationError.
 */
import { ValidationError } from '../errors';
import { SchemaProblem, problemsToError, schemas, validateSchema } from '../schemas';
import { mapOrder } from './order';
import { preset } from './options';
import { ErpOrder, MagentoOrder, MappingOptions, MappingProblem } from './types';

export * from './types';
export { mapOrder, round2, isoDate } from './order';
export { selectLines, bundleAsChildren } from './lines';
export { preset, resolveOptions, PRESETS, DEFAULT_FEES } from './options';
export { applyFieldRules } from './rules';
export { optionsFromConfig, MapOrderConfig, LookupRow, RuleRow } from './editor-config';

export type MappingStage = 'input' | 'mapping' | 'output';

export type MappingOutcome =
  | { ok: true; order: ErpOrder }
  | { ok: false; stage: MappingStage; error: ValidationError; problems: SchemaProblem[]; order?: ErpOrder };

export interface PipelineOptions {
  /** Check the Magento order against schemas/magento-order.schema.json first (default true). */
  validateInput?: boolean;
  /** Put before problem paths into the Magento order, e.g. `/payload` where a node received it. */
  inputPrefix?: string;
  /** Put before problem paths into the ERP order, e.g. `/erpOrder` where a node leaves it. */
  outputPrefix?: string;
}

function prefixed(prefix: string, field: string): string {
  if (!prefix) return field;
  return field === '/' ? prefix : `${prefix}${field}`;
}

/** Compiles the schemas `mapAndValidateOrder` checks against (else the first order compiles them). */
export function compileOrderSchemas(pipeline: Pick<PipelineOptions, 'validateInput'> = {}): void {
  if (pipeline.validateInput !== false) schemas().validator('magento-order');
  schemas().validator('erp-order');
}

/**
 * Maps one order and validates both sides. A failure names every field and reason: problems in the
 * Magento order stop before mapping (mapping garbage only adds noise); mapping problems and problems in
 * the produced ERP order are reported together.
 */
export function mapAndValidateOrder(raw: unknown, options: MappingOptions = preset('standard'), pipeline: PipelineOptions = {}): MappingOutcome {
  const { validateInput = true, inputPrefix = '', outputPrefix = '' } = pipeline;
  const orderNumber = raw && typeof raw === 'object' ? (raw as Record<string, unknown>).increment_id : undefined;
  const fail = (stage: MappingStage, problems: SchemaProblem[], order?: ErpOrder): MappingOutcome => ({
    ok: false,
    stage,
    problems,
    order,
    error: problemsToError(problems, {
      operation: 'order.map',
      details: { stage, ...(typeof orderNumber === 'string' ? { orderNumber } : {}) },
    }),
  });

  if (validateInput) {
    const input = validateSchema('magento-order', raw);
    if (!input.valid) return fail('input', input.problems.map((p) => ({ ...p, field: prefixed(inputPrefix, p.field) })));
  }

  const { order, problems } = mapOrder(raw as MagentoOrder, options);
  const all: SchemaProblem[] = problems.map((p: MappingProblem) => ({ field: prefixed(inputPrefix, p.field), reason: p.reason, keyword: 'mapping' }));
  if (order) {
    const output = validateSchema('erp-order', order);
    if (!output.valid) all.push(...output.problems.map((p) => ({ ...p, field: prefixed(outputPrefix, p.field) })));
  }
  if (!order || all.length > 0) return fail(problems.length > 0 ? 'mapping' : 'output', all, order);
  return { ok: true, order };
}
