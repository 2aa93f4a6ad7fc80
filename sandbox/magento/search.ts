/**
 * searchCriteria as Magento's collections apply it, over plain rows: filters inside a group OR'ed,
 * groups AND'ed, MySQL comparison rules (case-insensitive strings, numbers compared as numbers, NULL
 * matching nothing but `null`), sort orders with NULLs first, and the paging quirk: a `currentPage` past
 * the last page answers the last page again. Parsing is the pack's own `fromQuery`, so client and
 * simulator read the query the same way.
 */
import { fromQuery } from '../../lib/magento/search-criteria';
import { ValidationError } from '../../lib/errors';
import type { Filter, SortOrder } from '../../lib/magento/types';
import { normalizeDateValue } from './dates';
import { WebapiError, internalError, pageSizeTooBig, requiredField } from './webapi-error';

export type Row = Record<string, unknown>;

export interface Criteria {
  filterGroups: Filter[][];
  sortOrders?: SortOrder[];
  pageSize?: number;
  currentPage?: number;
  present: boolean;
}

export interface PagingLimits {
  enabled: boolean;
  maxPageSize: number;
  defaultPageSize: number;
}

let reportSeq = 0;

export function parseCriteria(rawQuery: string, limits: PagingLimits, required: boolean): Criteria {
  let c: Criteria;
  try {
    c = fromQuery(rawQuery);
  } catch (err) {
    if (err instanceof ValidationError) {
      throw new WebapiError(400, 'Invalid value of "%value" provided for the %fieldName field.', { fieldName: err.field ?? 'searchCriteria', value: err.message });
    }
    throw err;
  }
  if (required && !c.present) throw requiredField('searchCriteria');
  if (limits.enabled) {
    if (c.pageSize !== undefined && c.pageSize > limits.maxPageSize) throw pageSizeTooBig(limits.maxPageSize);
    if (c.pageSize !== undefined && c.pageSize < 1) throw new WebapiError(400, 'Minimum SearchCriteria pageSize is %min', { min: 1 });
    // Magento 2.4.3+ fills a missing pageSize with the default page size when input limits are on.
    if (c.pageSize === undefined) c.pageSize = limits.defaultPageSize;
  }
  return c;
}

/** The `search_criteria` echo, in Magento's snake_case output names. */
export function echoCriteria(c: Criteria): Record<string, unknown> {
  const out: Record<string, unknown> = {
    filter_groups: c.filterGroups.map((g) => ({
      filters: g.map((f) => ({ field: f.field, value: Array.isArray(f.value) ? f.value.join(',') : f.value ?? '', condition_type: f.conditionType ?? 'eq' })),
    })),
  };
  if (c.sortOrders?.length) out.sort_orders = c.sortOrders.map((s) => ({ field: s.field, direction: s.direction }));
  if (c.pageSize !== undefined) out.page_size = c.pageSize;
  if (c.currentPage !== undefined) out.current_page = c.currentPage;
  return out;
}

const NUMERIC = /^-?\d+(\.\d+)?$/;

function isNumeric(v: unknown): boolean {
  return typeof v === 'number' || (typeof v === 'string' && NUMERIC.test(v.trim()));
}

/** MySQL comparison of a column value with a filter value (utf8 general_ci collation). */
export function sqlCompare(a: unknown, b: unknown): number {
  if (isNumeric(a) && isNumeric(b)) {
    const x = Number(a);
    const y = Number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = String(a).toLowerCase();
  const y = String(b).toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

function likeRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) re += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (ch === '%') re += '[\\s\\S]*';
    else if (ch === '_') re += '[\\s\\S]';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'i');
}

export interface ColumnSpec {
  /** Columns a filter or sort may name; others are a SQL error (answered 500 as in production mode). */
  columns: ReadonlySet<string>;
  dateColumns?: ReadonlySet<string>;
}

function checkColumn(field: string, spec: ColumnSpec): void {
  if (!spec.columns.has(field)) throw internalError(`webapi-${Date.now().toString(16)}${(++reportSeq).toString(16)}`);
}

function valueFor(f: Filter, spec: ColumnSpec): unknown {
  const v = f.value;
  if (typeof v === 'string' && spec.dateColumns?.has(f.field)) return normalizeDateValue(v);
  return v;
}

export type Predicate = (row: Row) => boolean;

export function compileFilter(f: Filter, spec: ColumnSpec): Predicate {
  checkColumn(f.field, spec);
  const field = f.field;
  const value = valueFor(f, spec);
  const list = (Array.isArray(value) ? value : String(value ?? '').split(',')).map((x) =>
    typeof x === 'string' && spec.dateColumns?.has(field) ? normalizeDateValue(x) : x);
  const present = (row: Row): boolean => row[field] !== null && row[field] !== undefined;
  switch (f.conditionType ?? 'eq') {
    case 'eq': return (r) => present(r) && sqlCompare(r[field], value) === 0;
    case 'neq': return (r) => present(r) && sqlCompare(r[field], value) !== 0;
    case 'gt': return (r) => present(r) && sqlCompare(r[field], value) > 0;
    case 'gteq': case 'from': case 'moreq': return (r) => present(r) && sqlCompare(r[field], value) >= 0;
    case 'lt': return (r) => present(r) && sqlCompare(r[field], value) < 0;
    case 'lteq': case 'to': return (r) => present(r) && sqlCompare(r[field], value) <= 0;
    case 'in': return (r) => present(r) && list.some((x) => sqlCompare(r[field], x) === 0);
    case 'nin': return (r) => present(r) && !list.some((x) => sqlCompare(r[field], x) === 0);
    case 'like': { const re = likeRegex(String(value ?? '')); return (r) => present(r) && re.test(String(r[field])); }
    case 'nlike': { const re = likeRegex(String(value ?? '')); return (r) => present(r) && !re.test(String(r[field])); }
    case 'null': return (r) => !present(r);
    case 'notnull': return (r) => present(r);
    case 'finset': return (r) => present(r) && String(r[field]).split(',').some((x) => sqlCompare(x, value) === 0);
    case 'nfinset': return (r) => present(r) && !String(r[field]).split(',').some((x) => sqlCompare(x, value) === 0);
    default: throw new WebapiError(400, 'Invalid value of "%value" provided for the %fieldName field.', { fieldName: 'condition_type', value: String(f.conditionType) });
  }
}

export function compileCriteria(c: Criteria, spec: ColumnSpec): Predicate {
  const groups = c.filterGroups.filter((g) => g.length).map((g) => g.map((f) => compileFilter(f, spec)));
  if (!groups.length) return () => true;
  return (row) => groups.every((g) => g.some((p) => p(row)));
}

export function comparator(sortOrders: SortOrder[] | undefined, spec: ColumnSpec): ((a: Row, b: Row) => number) | undefined {
  if (!sortOrders?.length) return undefined;
  for (const s of sortOrders) checkColumn(s.field, spec);
  return (a, b) => {
    for (const s of sortOrders) {
      const x = a[s.field];
      const y = b[s.field];
      let d: number;
      if (x === null || x === undefined) d = y === null || y === undefined ? 0 : -1;
      else if (y === null || y === undefined) d = 1;
      else d = sqlCompare(x, y);
      if (d) return s.direction === 'DESC' ? -d : d;
    }
    return 0;
  };
}

/** Magento's Collection::getCurPage: below 1 is 1, past the last page is the last page. */
export function effectivePage(total: number, pageSize: number | undefined, currentPage: number | undefined): { offset: number; limit: number } {
  if (!pageSize) return { offset: 0, limit: Infinity };
  const last = total === 0 ? 1 : Math.ceil(total / pageSize);
  let page = currentPage ?? 1;
  if (page < 1) page = 1;
  if (page > last) page = last;
  return { offset: (page - 1) * pageSize, limit: pageSize };
}

export interface SearchResult {
  items: Row[];
  search_criteria: Record<string, unknown>;
  total_count: number;
}

/** searchCriteria over rows held in memory (products, source items, invoices, ...). */
export function searchRows(rows: Iterable<Row>, c: Criteria, spec: ColumnSpec, view: (row: Row) => Row = (r) => r): SearchResult {
  const pred = compileCriteria(c, spec);
  const cmp = comparator(c.sortOrders, spec);
  const matched: Row[] = [];
  for (const r of rows) if (pred(r)) matched.push(r);
  if (cmp) matched.sort(cmp);
  const { offset, limit } = effectivePage(matched.length, c.pageSize, c.currentPage);
  return { items: matched.slice(offset, offset + limit).map(view), search_criteria: echoCriteria(c), total_count: matched.length };
}

type FieldTree = Map<string, FieldTree | null>;

/** Parses `items[increment_id,status,items[sku]],total_count`; undefined when malformed (Magento then ignores it). */
export function parseFields(spec: string): FieldTree | undefined {
  let i = 0;
  const parseList = (): FieldTree => {
    const tree: FieldTree = new Map();
    while (i < spec.length) {
      let name = '';
      while (i < spec.length && !',[]'.includes(spec[i])) name += spec[i++];
      name = name.trim();
      let sub: FieldTree | null = null;
      if (spec[i] === '[') {
        i++;
        sub = parseList();
        if (spec[i] !== ']') throw new Error('unbalanced');
        i++;
      }
      if (name) tree.set(name, sub);
      if (spec[i] === ',') { i++; continue; }
      if (spec[i] === ']' || i >= spec.length) break;
    }
    return tree;
  };
  try {
    const tree = parseList();
    if (i !== spec.length) return undefined;
    return tree;
  } catch {
    return undefined;
  }
}

function trim(value: unknown, tree: FieldTree): unknown {
  if (Array.isArray(value)) return value.map((v) => trim(v, tree));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, sub] of tree) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    out[k] = sub ? trim(v, sub) : v;
  }
  return out;
}

/** `fields=` response trimming (Magento\Webapi\Controller\Rest\ResponseFieldsFilter). */
export function applyFields(body: unknown, fields: string | null | undefined): unknown {
  if (!fields) return body;
  const tree = parseFields(fields);
  if (!tree || tree.size === 0) return body;
  return trim(body, tree);
}
