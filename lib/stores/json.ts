/**
 * Canonical JSON: object keys sorted, so two equal values always have the same text. Stores keep
 * values as this text, which makes compare-and-set a plain string comparison in SQLite and in Redis Lua.
 */
import { ValidationError } from '../errors';
import type { JsonValue } from './types';

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined && typeof v !== 'function') out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function parseJson<T = JsonValue>(text: string | null | undefined): T | undefined {
  if (text === null || text === undefined) return undefined;
  return JSON.parse(text) as T;
}

const NAME = /^[A-Za-z0-9._-]{1,120}$/;

/** Store names become file names and Redis key segments: keep them boring. */
export function checkStoreName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ValidationError('name', `store name must be 1-120 letters, digits, ".", "-" or "_" (got ${JSON.stringify(name)})`);
  }
  return name;
}

export function checkKey(key: unknown, field = 'key'): string {
  if (typeof key !== 'string' || key.length === 0) throw new ValidationError(field, 'must be a non-empty string');
  if (key.length > 1024) throw new ValidationError(field, `is ${key.length} characters long; at most 1024 allowed`);
  return key;
}

/** An optional gate holder name: undefined, or a non-empty string of at most 256 characters. */
export function checkHolder(holder: unknown): string | undefined {
  if (holder === undefined) return undefined;
  if (typeof holder !== 'string' || holder.length === 0 || holder.length > 256) throw new ValidationError('holder', 'must be a non-empty string of at most 256 characters');
  return holder;
}

export function checkTtl(ttlMs: unknown, field = 'ttlMs'): number | undefined {
  if (ttlMs === undefined || ttlMs === null || ttlMs === 0) return undefined;
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs < 0) throw new ValidationError(field, 'must be a positive number of milliseconds');
  return Math.max(1, Math.round(ttlMs));
}
