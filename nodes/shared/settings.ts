/**
 * Numbers from editor fields, read the same way by every node: empty means the default; anything else
 * must be a number in range, or the node refuses its configuration with a ValidationError naming the
 * field (never a silent fallback: a typo would otherwise run with a value nobody chose).
 */
import { ValidationError } from '../../lib/errors';

export interface NumberFieldRule {
  /** Smallest value accepted (0 unless told). */
  min?: number;
  /** Only values above `min`, not `min` itself. */
  aboveMin?: boolean;
  /** Whole numbers only. */
  whole?: boolean;
  /** What the number counts, for the message ("seconds"). */
  unit?: string;
}

export function numberField(value: unknown, fallback: number, field: string, rule: NumberFieldRule = {}): number {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return fallback;
  const { min = 0, aboveMin = false, whole = false, unit } = rule;
  const n = Number(value);
  if (Number.isFinite(n) && (aboveMin ? n > min : n >= min) && (!whole || Number.isInteger(n))) return n;
  const kind = `${whole ? 'a whole number' : 'a number'}${unit ? ` of ${unit}` : ''}`;
  throw new ValidationError(field, `must be ${kind} ${aboveMin ? 'above' : 'of at least'} ${min} (got "${String(value)}")`);
}
