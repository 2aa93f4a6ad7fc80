/**
 * Magento's searchCriteria, both ways: a builder and `toQuery` writing the bracketed query Magento's
 * webapi reads (`searchCriteria[filter_groups][0][filters][0][field]=...`), and `fromQuery` reading it
 * back the way Magento does (snake_case or camelCase keys), for the sandbox.
 * Filters inside one group are OR'ed; groups are AND'ed.
 */
import { ValidationError } from '../errors';
import type { ConditionType, Filter, QueryParams, SearchCriteria, SortOrder } from './types';

export const CONDITION_TYPES: readonly ConditionType[] = [
  'eq', 'neq', 'gt', 'gteq', 'lt', 'lteq', 'in', 'nin', 'like', 'nlike',
  'null', 'notnull', 'from', 'to', 'finset', 'nfinset', 'moreq',
];

/** Conditions whose value is a list (sent comma-joined, as Magento splits it). */
export const LIST_CONDITIONS: readonly ConditionType[] = ['in', 'nin'];

export function isConditionType(value: unknown): value is ConditionType {
  return typeof value === 'string' && (CONDITION_TYPES as readonly string[]).includes(value);
}

function filterValue(filter: Filter): string | undefined {
  const v = filter.value;
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map(String).join(',');
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v);
}

/** Checks a criteria object and names the first fault. */
export function validateCriteria(criteria: SearchCriteria, field = 'searchCriteria'): void {
  if (!criteria || typeof criteria !== 'object') throw new ValidationError(field, 'must be an object');
  if (!Array.isArray(criteria.filterGroups)) throw new ValidationError(`${field}.filterGroups`, 'must be an array of filter arrays');
  criteria.filterGroups.forEach((group, g) => {
    if (!Array.isArray(group)) throw new ValidationError(`${field}.filterGroups[${g}]`, 'must be an array of filters');
    group.forEach((f, i) => {
      const at = `${field}.filterGroups[${g}][${i}]`;
      if (!f || typeof f.field !== 'string' || f.field === '') throw new ValidationError(`${at}.field`, 'must be a non-empty string');
      const ct = f.conditionType ?? 'eq';
      if (!isConditionType(ct)) throw new ValidationError(`${at}.conditionType`, `"${String(ct)}" is not one of ${CONDITION_TYPES.join(', ')}`);
      if (Array.isArray(f.value) && !LIST_CONDITIONS.includes(ct) && ct !== 'finset' && ct !== 'nfinset') {
        throw new ValidationError(`${at}.value`, `a list needs conditionType "in" or "nin" (got "${ct}")`);
      }
    });
  });
  for (const [i, s] of (criteria.sortOrders ?? []).entries()) {
    if (!s || typeof s.field !== 'string' || s.field === '') throw new ValidationError(`${field}.sortOrders[${i}].field`, 'must be a non-empty string');
    if (s.direction !== 'ASC' && s.direction !== 'DESC') throw new ValidationError(`${field}.sortOrders[${i}].direction`, 'must be "ASC" or "DESC"');
  }
  for (const key of ['pageSize', 'currentPage'] as const) {
    const v = criteria[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new ValidationError(`${field}.${key}`, 'must be a whole number of 1 or more');
  }
}

/** The flattened query Magento reads, in a stable order. */
export function toQuery(criteria: SearchCriteria, prefix = 'searchCriteria'): QueryParams {
  validateCriteria(criteria);
  const q: QueryParams = {};
  criteria.filterGroups.forEach((group, g) => {
    group.forEach((f, i) => {
      const base = `${prefix}[filter_groups][${g}][filters][${i}]`;
      q[`${base}[field]`] = f.field;
      const value = filterValue(f);
      // null/notnull take no value, but Magento's REST reader still expects the key to exist.
      q[`${base}[value]`] = value ?? (f.conditionType === 'null' || f.conditionType === 'notnull' ? '1' : '');
      q[`${base}[condition_type]`] = f.conditionType ?? 'eq';
    });
  });
  (criteria.sortOrders ?? []).forEach((s, i) => {
    q[`${prefix}[sortOrders][${i}][field]`] = s.field;
    q[`${prefix}[sortOrders][${i}][direction]`] = s.direction;
  });
  if (criteria.pageSize !== undefined) q[`${prefix}[pageSize]`] = criteria.pageSize;
  if (criteria.currentPage !== undefined) q[`${prefix}[currentPage]`] = criteria.currentPage;
  // Magento answers 400 to a list route without any searchCriteria: an empty one is `searchCriteria=`.
  if (Object.keys(q).length === 0) q[prefix] = '';
  return q;
}

type RawQuery = Record<string, string | string[] | undefined> | URLSearchParams | string;

function entriesOf(query: RawQuery): Array<[string, string]> {
  if (typeof query === 'string') return [...new URLSearchParams(query.replace(/^\?/, ''))];
  if (query instanceof URLSearchParams) return [...query];
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push([k, String(x)]);
    else out.push([k, String(v)]);
  }
  return out;
}

/** Splits `searchCriteria[a][0][b]` into ['a','0','b']; also accepts dotted `searchCriteria.a.0.b`. */
function pathOf(key: string, prefix: string): string[] | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  if (rest === '') return [];
  const parts: string[] = [];
  const re = /\[([^\]]*)\]/g;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(rest)) && m.index === consumed) {
    parts.push(m[1]);
    consumed = re.lastIndex;
  }
  if (consumed !== rest.length) return undefined;
  return parts;
}

const GROUP_KEYS = new Set(['filter_groups', 'filterGroups']);
const CONDITION_KEYS = new Set(['condition_type', 'conditionType']);
const SORT_KEYS = new Set(['sortOrders', 'sort_orders']);

/**
 * Reads searchCriteria from a query (string, URLSearchParams or an object of already-decoded keys)
 * the way Magento does. Unknown condition types raise a ValidationError naming the key.
 * `in`/`nin` values come back as arrays (split on commas).
 */
export function fromQuery(query: RawQuery, prefix = 'searchCriteria'): SearchCriteria & { present: boolean } {
  const groups = new Map<number, Map<number, Partial<Filter> & { rawValue?: string; values?: string[] }>>();
  const sorts = new Map<number, Partial<SortOrder>>();
  const criteria: SearchCriteria & { present: boolean } = { filterGroups: [], present: false };
  const index = (s: string, key: string): number => {
    if (!/^\d+$/.test(s)) throw new ValidationError(key, `"${s}" is not an index`);
    return Number(s);
  };
  for (const [key, value] of entriesOf(query)) {
    const path = pathOf(key, prefix);
    if (!path) continue;
    criteria.present = true;
    if (path.length === 0) continue;
    const [head, ...rest] = path;
    if (GROUP_KEYS.has(head)) {
      // [g][filters][f][prop]
      if (rest.length < 4 || rest[1] !== 'filters') throw new ValidationError(key, 'expected [filter_groups][G][filters][F][field|value|condition_type]');
      const g = index(rest[0], key);
      const f = index(rest[2], key);
      const prop = rest[3];
      if (!groups.has(g)) groups.set(g, new Map());
      const group = groups.get(g)!;
      if (!group.has(f)) group.set(f, {});
      const filter = group.get(f)!;
      if (prop === 'field') filter.field = value;
      else if (prop === 'value') {
        // value[] / value[0] lists, as PHP would read them.
        if (rest.length > 4) (filter.values ??= []).push(value);
        else filter.rawValue = value;
      } else if (CONDITION_KEYS.has(prop)) {
        if (!isConditionType(value)) throw new ValidationError(key, `"${value}" is not a condition type Magento knows (${CONDITION_TYPES.join(', ')})`);
        filter.conditionType = value;
      } else throw new ValidationError(key, `unknown filter property "${prop}"`);
    } else if (SORT_KEYS.has(head)) {
      if (rest.length !== 2) throw new ValidationError(key, 'expected [sortOrders][N][field|direction]');
      const i = index(rest[0], key);
      if (!sorts.has(i)) sorts.set(i, {});
      const s = sorts.get(i)!;
      if (rest[1] === 'field') s.field = value;
      else if (rest[1] === 'direction') {
        const d = value.toUpperCase();
        if (d !== 'ASC' && d !== 'DESC') throw new ValidationError(key, `direction must be ASC or DESC (got "${value}")`);
        s.direction = d;
      } else throw new ValidationError(key, `unknown sort property "${rest[1]}"`);
    } else if (head === 'pageSize' || head === 'page_size' || head === 'currentPage' || head === 'current_page') {
      if (!/^\d+$/.test(value)) throw new ValidationError(key, `must be a whole number (got "${value}")`);
      if (head.startsWith('page')) criteria.pageSize = Number(value);
      else criteria.currentPage = Number(value);
    } else {
      throw new ValidationError(key, `unknown searchCriteria property "${head}"`);
    }
  }
  for (const g of [...groups.keys()].sort((a, b) => a - b)) {
    const group = groups.get(g)!;
    const filters: Filter[] = [];
    for (const f of [...group.keys()].sort((a, b) => a - b)) {
      const raw = group.get(f)!;
      if (!raw.field) throw new ValidationError(`${prefix}[filter_groups][${g}][filters][${f}][field]`, 'is missing');
      const conditionType = raw.conditionType ?? 'eq';
      let value: Filter['value'];
      if (raw.values) value = raw.values;
      else if (raw.rawValue !== undefined) value = LIST_CONDITIONS.includes(conditionType) ? raw.rawValue.split(',').map((s) => s.trim()) : raw.rawValue;
      const filter: Filter = { field: raw.field, conditionType };
      if (value !== undefined) filter.value = value;
      filters.push(filter);
    }
    criteria.filterGroups.push(filters);
  }
  const sortOrders: SortOrder[] = [];
  for (const i of [...sorts.keys()].sort((a, b) => a - b)) {
    const s = sorts.get(i)!;
    if (!s.field) throw new ValidationError(`${prefix}[sortOrders][${i}][field]`, 'is missing');
    sortOrders.push({ field: s.field, direction: s.direction ?? 'ASC' });
  }
  if (sortOrders.length) criteria.sortOrders = sortOrders;
  return criteria;
}

/** Fluent builder: each `where` is its own AND group; `whereAny` is one OR group. */
export class SearchCriteriaBuilder {
  private readonly groups: Filter[][] = [];
  private readonly sorts: SortOrder[] = [];
  private size?: number;
  private page?: number;

  where(field: string, value: Filter['value'], conditionType: ConditionType = 'eq'): this {
    this.groups.push([{ field, value, conditionType }]);
    return this;
  }

  /** One group whose filters are OR'ed. */
  whereAny(filters: Filter[]): this {
    if (filters.length) this.groups.push(filters.map((f) => ({ conditionType: 'eq', ...f })));
    return this;
  }

  sortBy(field: string, direction: 'ASC' | 'DESC' = 'ASC'): this {
    this.sorts.push({ field, direction });
    return this;
  }

  pageSize(size: number): this {
    this.size = size;
    return this;
  }

  currentPage(page: number): this {
    this.page = page;
    return this;
  }

  build(): SearchCriteria {
    const c: SearchCriteria = { filterGroups: this.groups.map((g) => g.map((f) => ({ ...f }))) };
    if (this.sorts.length) c.sortOrders = this.sorts.map((s) => ({ ...s }));
    if (this.size !== undefined) c.pageSize = this.size;
    if (this.page !== undefined) c.currentPage = this.page;
    validateCriteria(c);
    return c;
  }

  toQuery(): QueryParams {
    return toQuery(this.build());
  }
}

export function searchCriteria(): SearchCriteriaBuilder {
  return new SearchCriteriaBuilder();
}

/**
 * Adds `key` ASC as the last sort order unless already sorted by it, so paging never skips or repeats
 * rows that tie on the other sort keys.
 */
export function withStableSort(criteria: SearchCriteria, key = 'entity_id'): SearchCriteria {
  const sorts = criteria.sortOrders ?? [];
  if (sorts.some((s) => s.field === key)) return criteria;
  return { ...criteria, sortOrders: [...sorts, { field: key, direction: 'ASC' }] };
}
