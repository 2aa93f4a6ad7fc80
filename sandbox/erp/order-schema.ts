/**
 * Validates order bodies against `schemas/erp-order.schema.json`, the canonical ERP order. The schema is read
 * at request time and re-read when the file changes, so the ERP follows the schema as it evolves and
 * answers with a clear 500 (not a crash at start) when the file is missing.
 */
import fs from 'fs';
import path from 'path';

// ajv's draft 2020-12 build; its types come with the package.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const Ajv2020 = require('ajv/dist/2020');

export const ERP_ORDER_SCHEMA_FILE = 'erp-order.schema.json';

/** `<package root>/schemas`, from dist/sandbox/erp/ or sandbox/erp/. */
export function defaultSchemaDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'schemas');
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return path.resolve(__dirname, '..', '..', '..', 'schemas');
}

export interface SchemaProblem {
  /** JSON pointer into the body, '' for the body itself. */
  path: string;
  message: string;
  keyword: string;
  params: Record<string, unknown>;
}

export type SchemaCheck =
  | { ok: true }
  | { ok: false; kind: 'invalid'; problems: SchemaProblem[] }
  | { ok: false; kind: 'unavailable'; message: string };

// Formats the pack's schemas use; ajv-formats would be one more dependency for four regular expressions.
const FORMATS: Record<string, RegExp> = {
  'date-time': /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/i,
  date: /^\d{4}-\d{2}-\d{2}$/,
  email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  uri: /^[a-z][a-z0-9+.-]*:[^\s]*$/i,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
};

type Validator = ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string; keyword: string; params: Record<string, unknown> }> | null };

export class OrderSchema {
  private validator?: Validator;
  private loadedSignature = '';

  constructor(readonly schemaDir: string = defaultSchemaDir()) {}

  get file(): string {
    return path.join(this.schemaDir, ERP_ORDER_SCHEMA_FILE);
  }

  check(body: unknown): SchemaCheck {
    let validate: Validator;
    try {
      validate = this.load();
    } catch (err) {
      return { ok: false, kind: 'unavailable', message: (err as Error).message };
    }
    if (validate(body)) return { ok: true };
    const problems = (validate.errors ?? []).map((e) => ({
      path: e.instancePath,
      message: e.message ?? e.keyword,
      keyword: e.keyword,
      params: e.params,
    }));
    return { ok: false, kind: 'invalid', problems };
  }

  private load(): Validator {
    const files = this.schemaFiles();
    const signature = files.map((f) => `${f}:${fs.statSync(f).mtimeMs}`).join('|');
    if (this.validator && signature === this.loadedSignature) return this.validator;

    // Sibling schemas are registered too, so the order schema may $ref them by $id.
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    for (const [name, re] of Object.entries(FORMATS)) ajv.addFormat(name, re);
    let orderSchema: Record<string, unknown> | undefined;
    for (const file of files) {
      const isOrderSchema = path.basename(file) === ERP_ORDER_SCHEMA_FILE;
      let schema: Record<string, unknown>;
      try {
        schema = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch (err) {
        if (isOrderSchema) throw new Error(`The ERP order schema ${ERP_ORDER_SCHEMA_FILE} is not valid JSON: ${(err as Error).message}`);
        continue; // a broken sibling only matters if the order schema refers to it, and compile says so then
      }
      if (isOrderSchema) orderSchema = schema;
      else if (typeof schema.$id === 'string') {
        try {
          ajv.addSchema(schema);
        } catch {
          // same as above: reported by compile() if the order schema needs it
        }
      }
    }
    if (!orderSchema) throw new Error(`The ERP order schema ${this.file} does not exist, so orders cannot be validated`);
    try {
      this.validator = ajv.compile(orderSchema) as Validator;
    } catch (err) {
      throw new Error(`The ERP order schema ${ERP_ORDER_SCHEMA_FILE} does not compile: ${(err as Error).message}`);
    }
    this.loadedSignature = signature;
    return this.validator!;
  }

  private schemaFiles(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.schemaDir);
    } catch {
      names = [];
    }
    return names.filter((n) => n.endsWith('.json')).sort().map((n) => path.join(this.schemaDir, n));
  }
}
