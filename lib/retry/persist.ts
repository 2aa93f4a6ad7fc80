/**
 * The part of a Node-RED message that may be written to a store. Left out: the HTTP request/response
 * objects (`req`, `res` — sockets, they cannot be revived), anything that is not plain data (class
 * instances such as sockets, streams, timers), functions, and values under keys named like secrets
 * (`authorization`, `password`, `token`, …). Buffers keep their bytes in Node's JSON form.
 * `failure`, `error`, `retry` and `_retry` are dropped too: the queue keeps them in the entry's history.
 */
import { isSecretKey } from '../redact';
import type { JsonValue } from '../stores/types';

const NEVER_STORED = new Set(['req', 'res', 'socket', 'failure', 'error', 'retry', '_retry']);

/**
 * Fields named like secrets that are not: the idempotency gate's holder token only proves which message
 * holds a key, and a retried message needs it to commit or release that key.
 */
const NOT_SECRET_PATHS = new Set(['_gate.token']);

/** Node-RED's own credentials bag is a secret too, beside the names lib/redact.ts knows. */
function secretKey(key: string, path: string = key): boolean {
  if (NOT_SECRET_PATHS.has(path)) return false;
  return key === 'credentials' || isSecretKey(key);
}

export interface PersistResult {
  message: { [key: string]: JsonValue };
  /** Paths left out, so the node can say what a re-emitted message lacks. */
  dropped: string[];
}

/**
 * Plain data, also when it was made in another JavaScript context: a function node's objects have that
 * context's Object.prototype, so an identity check against ours would drop every payload it built.
 */
function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) return true;
  return Object.getPrototypeOf(proto) === null && typeof proto.constructor === 'function' && proto.constructor.name === 'Object';
}

function isDate(v: object): v is Date {
  return Object.prototype.toString.call(v) === '[object Date]';
}

export function persistableMessage(msg: Record<string, unknown>): PersistResult {
  const dropped: string[] = [];
  const seen = new WeakSet<object>();
  const walk = (value: unknown, path: string): JsonValue | undefined => {
    if (value === null) return null;
    switch (typeof value) {
      case 'string': case 'boolean': return value;
      case 'number': return Number.isFinite(value) ? value : null;
      case 'bigint': return value.toString();
      case 'undefined': return undefined;
      case 'function': case 'symbol': dropped.push(path); return undefined;
    }
    const obj = value as object;
    if (seen.has(obj)) { dropped.push(path); return undefined; }
    seen.add(obj);
    try {
      if (Buffer.isBuffer(obj)) return { type: 'Buffer', data: [...obj] };
      if (isDate(obj)) return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
      if (Array.isArray(obj)) return Array.from(obj as unknown[], (v, i) => walk(v, `${path}[${i}]`) ?? null);
      if (!isPlainObject(obj)) { dropped.push(path); return undefined; }
      const out: { [key: string]: JsonValue } = {};
      for (const [k, v] of Object.entries(obj)) {
        const p = path ? `${path}.${k}` : k;
        if (secretKey(k, p) && v !== undefined && v !== null && v !== '') { dropped.push(p); continue; }
        const w = walk(v, p);
        if (w !== undefined) out[k] = w;
      }
      return out;
    } finally {
      seen.delete(obj);
    }
  };
  const message: { [key: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(msg)) {
    if (NEVER_STORED.has(k)) {
      if (k === 'req' || k === 'res' || k === 'socket') dropped.push(k);
      continue;
    }
    if (secretKey(k) && v !== undefined && v !== null && v !== '') { dropped.push(k); continue; }
    const w = walk(v, k);
    if (w !== undefined) message[k] = w;
  }
  return { message, dropped };
}

/** Turns stored Buffers back into Buffers, so a re-emitted binary payload is what was failed. */
export function revivedMessage(stored: { [key: string]: JsonValue }): Record<string, unknown> {
  const revive = (v: JsonValue): unknown => {
    if (Array.isArray(v)) return v.map(revive);
    if (v && typeof v === 'object') {
      if (v.type === 'Buffer' && Array.isArray(v.data) && Object.keys(v).length === 2) return Buffer.from(v.data as number[]);
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = revive(x);
      return out;
    }
    return v;
  };
  return revive(structuredClone(stored)) as Record<string, unknown>;
}
