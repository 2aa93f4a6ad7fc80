/**
 * The pack's JSON Schemas (`schemas/*.schema.json`, draft 2020-12) behind one ajv instance: validators are
 * compiled once per schema name and cached, and ajv's errors become plain reasons a user can act on
 * (`/items/0/qty: must be a number`). Every node that validates a message uses this module.
 */
import fs from 'fs';
import path from 'path';
import { ValidationError, IntegrationErrorOptions } from './errors';

// ajv's draft 2020-12 build; required rather than imported so the CommonJS default export is used as is.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const Ajv2020 = require('ajv/dist/2020');

/** The schemas shipped in `schemas/`; any other `<name>.schema.json` there can be used by name too. */
export type SchemaName =
  | 'magento-order'
  | 'erp-order'
  | 'erp-stock'
  | 'erp-prices'
  | 'erp-shipment'
  | 'erp-products';

export interface SchemaProblem {
  /** JSON pointer into the validated value (`/items/0/qty`), `/` for the value itself. */
  field: string;
  /** Plain words: `must be a number`, `is required`, `is not an allowed field`. */
  reason: string;
  /** The ajv keyword that failed (type, required, minimum, ...), for code that wants to branch. */
  keyword: string;
}

export type SchemaResult = { valid: true; problems: [] } | { valid: false; problems: SchemaProblem[] };

interface AjvError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, any>;
  message?: string;
  parentSchema?: Record<string, any>;
}

type CompiledValidator = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

/**
 * Formats the schemas use. ajv-formats would be one more dependency for a handful of expressions; these
 * match the demo ERP's (sandbox/erp/order-schema.ts) so both sides accept the same values.
 */
const FORMATS: Record<string, RegExp> = {
  'date-time': /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/i,
  date: /^\d{4}-\d{2}-\d{2}$/,
  email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  uri: /^[a-z][a-z0-9+.-]*:[^\s]*$/i,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
};

const FORMAT_WORDS: Record<string, string> = {
  'date-time': 'an ISO 8601 date-time such as 2024-05-31T13:45:00Z',
  date: 'a date such as 2024-05-31',
  email: 'an e-mail address',
  uri: 'a URI',
  uuid: 'a UUID',
};

/** `<package root>/schemas`, found from dist/lib/ as well as from lib/. */
export function schemaDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'schemas');
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return path.resolve(__dirname, '..', '..', 'schemas');
}

export class SchemaRegistry {
  private readonly ajv: any;
  private readonly validators = new Map<string, CompiledValidator>();

  constructor(readonly dir: string = schemaDir()) {
    // strict catches mistakes in our own schemas; verbose gives each error its parent schema, whose
    // description turns a failed pattern into words.
    this.ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
    for (const [name, re] of Object.entries(FORMATS)) this.ajv.addFormat(name, re);
  }

  /** The parsed schema `<dir>/<name>.schema.json`. */
  schema(name: SchemaName | string): Record<string, unknown> {
    const file = path.join(this.dir, `${name}.schema.json`);
    if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`Invalid schema name "${name}"`);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      throw new Error(`Schema "${name}" not found (${file})`);
    }
    return JSON.parse(text);
  }

  validator(name: SchemaName | string): CompiledValidator {
    let validate = this.validators.get(name);
    if (!validate) {
      validate = this.ajv.compile(this.schema(name)) as CompiledValidator;
      this.validators.set(name, validate);
    }
    return validate;
  }

  validate(name: SchemaName | string, data: unknown): SchemaResult {
    const validate = this.validator(name);
    if (validate(data)) return { valid: true, problems: [] };
    return { valid: false, problems: readableProblems(validate.errors ?? []) };
  }
}

let shared: SchemaRegistry | undefined;

/** The process-wide registry over the package's `schemas/`. */
export function schemas(): SchemaRegistry {
  if (!shared) shared = new SchemaRegistry();
  return shared;
}

/** Validates `data` against a shipped schema; never throws for invalid data. */
export function validateSchema(name: SchemaName | string, data: unknown): SchemaResult {
  return schemas().validate(name, data);
}

/** `"/items/0/qty: must be a number"`. */
export function formatProblem(problem: SchemaProblem): string {
  return `${problem.field}: ${problem.reason}`;
}

/**
 * One ValidationError naming every problem: the message lists them all, `field` is the first, and
 * `details.problems` keeps the list for code (and for `msg.failure`).
 */
export function problemsToError(
  problems: SchemaProblem[],
  options: Omit<IntegrationErrorOptions, 'field'> & { prefix?: string } = {},
): ValidationError {
  const { prefix = '', ...rest } = options;
  const withPrefix = problems.map((p) => ({ ...p, field: joinPointer(prefix, p.field) }));
  const first = withPrefix[0] ?? { field: prefix || '/', reason: 'is invalid', keyword: 'unknown' };
  const err = new ValidationError(first.field, first.reason, {
    ...rest,
    details: { ...(rest.details ?? {}), problems: withPrefix },
  });
  if (withPrefix.length > 1) {
    // ValidationError's message names the first field; the full list reads better for a human.
    (err as { message: string }).message = `${withPrefix.length} problems: ${withPrefix.map(formatProblem).join('; ')}`;
  }
  return err;
}

/** Throws a ValidationError naming every problem unless `data` is valid. */
export function assertValid(
  name: SchemaName | string,
  data: unknown,
  options: Omit<IntegrationErrorOptions, 'field'> & { prefix?: string } = {},
): void {
  const result = validateSchema(name, data);
  if (!result.valid) throw problemsToError(result.problems, options);
}

function joinPointer(prefix: string, pointer: string): string {
  if (!prefix) return pointer;
  const base = prefix.startsWith('/') ? prefix : `/${prefix}`;
  return pointer === '/' ? base : `${base.replace(/\/$/, '')}${pointer}`;
}

function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  integer: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

function typeWords(type: string | string[]): string {
  const types = (Array.isArray(type) ? type : String(type).split(',')).map((t) => TYPE_WORDS[t.trim()] ?? t.trim());
  if (types.length === 1) return types[0];
  return `${types.slice(0, -1).join(', ')} or ${types[types.length - 1]}`;
}

/** Words for a failed `pattern`: the schema's `$comment` or lower-case description, else the pattern. */
function patternWords(error: AjvError): string {
  const parent = error.parentSchema ?? {};
  const hint = typeof parent.$comment === 'string' ? parent.$comment : parent.description;
  if (typeof hint === 'string' && /^[a-z]/.test(hint)) return `must be ${hint}`;
  return `must match the pattern ${error.params.pattern}`;
}

function describe(error: AjvError): { field: string; reason: string } {
  const field = error.instancePath || '';
  const p = error.params;
  switch (error.keyword) {
    case 'required':
      return { field: `${field}/${escapePointerToken(String(p.missingProperty))}`, reason: 'is required' };
    case 'additionalProperties':
      return { field: `${field}/${escapePointerToken(String(p.additionalProperty))}`, reason: 'is not an allowed field' };
    case 'type':
      return { field, reason: `must be ${typeWords(p.type)}` };
    case 'minLength':
      return { field, reason: p.limit === 1 ? 'must not be empty' : `must be at least ${p.limit} characters long` };
    case 'maxLength':
      return { field, reason: `must be at most ${p.limit} characters long` };
    case 'minItems':
      return { field, reason: p.limit === 1 ? 'must not be empty' : `must have at least ${p.limit} entries` };
    case 'maxItems':
      return { field, reason: `must have at most ${p.limit} entries` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { field, reason: `must be ${p.comparison} ${p.limit}` };
    case 'enum':
      return { field, reason: `must be one of: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'const':
      return { field, reason: `must be ${JSON.stringify(p.allowedValue)}` };
    case 'pattern':
      return { field, reason: patternWords(error) };
    case 'format':
      return { field, reason: `must be ${FORMAT_WORDS[p.format] ?? `in ${p.format} format`}` };
    case 'uniqueItems':
      return { field, reason: `must not repeat entries (entries ${p.j} and ${p.i} are the same)` };
    default:
      return { field, reason: error.message ?? `fails ${error.keyword}` };
  }
}

/**
 * ajv reports one error per failed keyword, including the combinators around them (if/then, oneOf) and
 * a pattern next to the minLength that already said "empty": keep what a person needs, once.
 */
export function readableProblems(errors: AjvError[]): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  const seen = new Set<string>();
  const combinators = new Set(['if', 'then', 'else', 'oneOf', 'anyOf', 'allOf', 'not']);
  const meaningful = errors.filter((e) => !combinators.has(e.keyword) || errors.length === 1);
  const emptyAt = new Set(meaningful.filter((e) => e.keyword === 'minLength' && e.params.limit === 1).map((e) => e.instancePath));
  for (const error of meaningful) {
    if (error.keyword === 'pattern' && emptyAt.has(error.instancePath)) continue;
    const { field, reason } = describe(error);
    const pointer = field || '/';
    const key = `${pointer}\u0000${reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ field: pointer, reason, keyword: error.keyword });
  }
  return out;
}
