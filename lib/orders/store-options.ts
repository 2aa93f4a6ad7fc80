/** The order nodes' store choice (a store kind chosen in the editor, SQLite by default) and list fields. */
import { ValidationError } from '../errors';
import { STORE_KINDS, type StoreKind } from '../stores/types';

export interface StoreChoice {
  storeKind?: string;
  redisUrl?: string;
}

export function storeKindOf(choice: StoreChoice): StoreKind {
  const kind = choice.storeKind || 'sqlite';
  if (!(STORE_KINDS as readonly string[]).includes(kind)) throw new ValidationError('storeKind', `must be one of ${STORE_KINDS.join(', ')} (got "${kind}")`);
  if (kind === 'redis' && !(choice.redisUrl && /^rediss?:\/\//.test(choice.redisUrl))) {
    throw new ValidationError('redisUrl', 'is required for a Redis store (e.g. redis://127.0.0.1:6379/0)');
  }
  return kind as StoreKind;
}

/** "a, b ,c" → ['a','b','c'] (empty entries dropped). */
export function listOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => String(v).trim()).filter(Boolean);
  if (typeof value !== 'string') return [];
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Store ids typed in the editor; a ValidationError names the bad one. */
export function storeIdsOf(value: unknown, field = 'storeIds'): number[] {
  return listOf(value).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) throw new ValidationError(field, `"${s}" is not a store id (a whole number such as 1)`);
    return n;
  });
}
