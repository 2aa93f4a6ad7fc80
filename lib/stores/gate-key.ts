/**
 * Where an idempotency gate finds a message's key: a message property, an HTTP header, or a mustache
 * template over the message (`order_{{payload.increment_id}}_{{payload.created_at}}`). A template is
 * only variables and text (no sections), and every variable must have a value: a half-filled key such
 * as `order__` would make different orders look the same, so it is refused instead.
 */
import Mustache from 'mustache';
import { ValidationError } from '../errors';

export type KeySource =
  | { from: 'property'; property: string }
  | { from: 'header'; header: string }
  | { from: 'template'; template: string };

export const MAX_KEY_LENGTH = 512;

type Token = [string, string, number, number];

function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

/** Checks a key source once, at deploy; throws ValidationError naming the field. */
export function compileKeySource(source: KeySource): (msg: Record<string, unknown>) => string {
  switch (source.from) {
    case 'property': {
      const property = source.property?.trim() || 'idempotencyKey';
      return (msg) => checked(getPath(msg, property), `msg.${property}`);
    }
    case 'header': {
      const header = source.header?.trim().toLowerCase();
      if (!header) throw new ValidationError('keyHeader', 'name the header that carries the key, e.g. Idempotency-Key');
      return (msg) => {
        const req = msg.req as { headers?: Record<string, unknown> } | undefined;
        const fromReq = req?.headers ? req.headers[header] : undefined;
        const headers = msg.headers as Record<string, unknown> | undefined;
        let value = fromReq;
        if (value === undefined && headers && typeof headers === 'object') {
          const name = Object.keys(headers).find((k) => k.toLowerCase() === header);
          value = name === undefined ? undefined : headers[name];
        }
        return checked(Array.isArray(value) ? value[0] : value, `header ${header}`);
      };
    }
    case 'template': {
      const template = source.template ?? '';
      let tokens: Token[];
      try {
        tokens = Mustache.parse(template) as Token[];
      } catch (err) {
        throw new ValidationError('keyTemplate', `is not a valid mustache template: ${(err as Error).message}`);
      }
      if (!tokens.some((t) => t[0] === 'name' || t[0] === '&')) throw new ValidationError('keyTemplate', 'must use at least one message property, e.g. order_{{payload.increment_id}}');
      const bad = tokens.find((t) => !['text', 'name', '&'].includes(t[0]));
      if (bad) throw new ValidationError('keyTemplate', `may only hold text and {{property}} references (found "${bad[0]}${bad[1]}")`);
      return (msg) => {
        let out = '';
        for (const [type, value] of tokens) {
          if (type === 'text') { out += value; continue; }
          const v = scalar(getPath(msg, value));
          if (v === undefined) throw new ValidationError(`msg.${value}`, `is missing or empty: the key template ${JSON.stringify(template)} needs it`);
          out += v;
        }
        return checked(out, 'key');
      };
    }
    default:
      throw new ValidationError('keyFrom', 'must be property, header or template');
  }
}

function checked(value: unknown, field: string): string {
  const key = scalar(value);
  if (key === undefined) throw new ValidationError(field, value === undefined || value === null ? 'is missing: the message has no idempotency key' : 'is empty or not a string/number: it cannot be an idempotency key');
  if (key.length > MAX_KEY_LENGTH) throw new ValidationError(field, `is ${key.length} characters long; an idempotency key may have at most ${MAX_KEY_LENGTH}`);
  return key;
}
