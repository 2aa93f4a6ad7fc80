'use strict';
// A small in-memory MagentoClient for unit tests of lib/orders: searchCriteria with Magento's semantics
// (groups AND'ed, filters in a group OR'ed, sort, pageSize/currentPage, past-the-end = last page again),
// GET /V1/orders/{id}, and a call log. The sandbox is the full simulator; this fake keeps unit tests small.
const { MagentoError } = require('../../dist/lib/magento/errors');

function pad(n, w = 2) { return String(n).padStart(w, '0'); }
function magentoDate(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

function cmp(a, b) {
  const na = Number(a); const nb = Number(b);
  if (typeof a === 'number' || (a !== '' && !Number.isNaN(na) && !Number.isNaN(nb) && !/[-: ]/.test(String(a)))) return na - nb;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function matches(row, f) {
  // Customers answer `id` but are filtered on `entity_id`, as in Magento.
  const v = row[f.field] ?? (f.field === 'entity_id' ? row.id : undefined);
  const ct = f.conditionType || 'eq';
  const list = Array.isArray(f.value) ? f.value : String(f.value).split(',');
  switch (ct) {
    case 'eq': return v !== undefined && cmp(v, f.value) === 0;
    case 'neq': return cmp(v, f.value) !== 0;
    case 'gt': return v !== undefined && cmp(v, f.value) > 0;
    case 'gteq': case 'from': return v !== undefined && cmp(v, f.value) >= 0;
    case 'lt': return v !== undefined && cmp(v, f.value) < 0;
    case 'lteq': case 'to': return v !== undefined && cmp(v, f.value) <= 0;
    case 'in': return list.some((x) => cmp(v, x) === 0);
    case 'nin': return !list.some((x) => cmp(v, x) === 0);
    default: throw new Error(`fake: condition ${ct} not supported`);
  }
}

class FakeMagento {
  constructor(options = {}) {
    this.settings = { name: options.name || 'fake-store', limits: { maxPageSize: 300, maxItemsPerRequest: 20, maxBulkItems: 5000 } };
    this.orders = [];
    this.invoices = [];
    this.shipments = [];
    this.customers = [];
    this.calls = [];
    this.faults = [];
    this.notFoundTimes = new Map();
    this.ignoreOrGroups = false;
    this.onSearch = null;
  }

  /** Adds n orders; `at` (ms) and `sameSecond` control updated_at. */
  addOrders(n, opts = {}) {
    const base = opts.at ?? Date.UTC(2024, 0, 1, 10, 0, 0);
    const out = [];
    for (let i = 0; i < n; i++) {
      const id = this.orders.length + 1;
      const t = opts.sameSecond ? base : base + (opts.step ?? 1000) * i;
      const order = {
        entity_id: id, increment_id: String(100000000 + id), status: opts.status ? (typeof opts.status === 'function' ? opts.status(id) : opts.status) : 'pending',
        store_id: opts.storeId ?? 1, created_at: magentoDate(t), updated_at: magentoDate(t),
        customer_id: opts.guest ? null : (opts.customerId ?? id), customer_is_guest: opts.guest ? 1 : 0, grand_total: 10 * id,
      };
      this.orders.push(order);
      out.push(order);
    }
    return out;
  }

  touch(entityId, ms, changes = {}) {
    const o = this.orders.find((x) => x.entity_id === entityId);
    Object.assign(o, changes, { updated_at: magentoDate(ms) });
    return o;
  }

  fail(pathPrefix, err, times = 1) { this.faults.push({ pathPrefix, err, times }); }

  checkFault(path) {
    const f = this.faults.find((x) => path.startsWith(x.pathPrefix) && x.times > 0);
    if (f) { f.times--; throw f.err; }
  }

  rows(path) {
    if (path === '/orders') return this.orders;
    if (path === '/invoices') return this.invoices;
    if (path === '/shipments') return this.shipments;
    if (path === '/customers/search') return this.customers;
    throw new Error('fake: no list ' + path);
  }

  async search(path, criteria, options = {}) {
    this.calls.push({ method: 'GET', path, criteria: JSON.parse(JSON.stringify(criteria)), operation: options.operation });
    if (this.onSearch) await this.onSearch(path, criteria);
    this.checkFault(path);
    let rows = this.rows(path).filter((row) => criteria.filterGroups.every((g) => {
      if (this.ignoreOrGroups && g.length > 1) return true;
      return g.some((f) => matches(row, f));
    }));
    const sorts = [...(criteria.sortOrders || [])];
    if (options.stableSortKey && !sorts.some((s) => s.field === options.stableSortKey)) sorts.push({ field: options.stableSortKey, direction: 'ASC' });
    rows = rows.slice().sort((a, b) => {
      for (const s of sorts) {
        const c = cmp(a[s.field], b[s.field]);
        if (c !== 0) return s.direction === 'DESC' ? -c : c;
      }
      return 0;
    });
    const total = rows.length;
    const size = criteria.pageSize || total || 1;
    const lastPage = Math.max(1, Math.ceil(total / size));
    const page = Math.min(criteria.currentPage || 1, lastPage);
    const items = rows.slice((page - 1) * size, page * size).map((r) => JSON.parse(JSON.stringify(r)));
    return { items, search_criteria: criteria, total_count: total };
  }

  pages(path, criteria, options = {}) {
    const self = this;
    const pageSize = Math.min(criteria.pageSize || 300, 300);
    return {
      async *[Symbol.asyncIterator]() {
        let page = 1;
        for (;;) {
          const r = await self.search(path, { ...criteria, pageSize, currentPage: page }, options);
          const pages = Math.max(1, Math.ceil(r.total_count / pageSize));
          yield { ...r, page, pages };
          if (page >= pages) return;
          page++;
        }
      },
    };
  }

  async request(req) {
    this.calls.push({ method: req.method, path: req.path, operation: req.operation });
    this.checkFault(req.path);
    const m = /^\/orders\/(\d+)$/.exec(req.path);
    if (req.method === 'GET' && m) {
      const id = Number(m[1]);
      const left = this.notFoundTimes.get(id) || 0;
      const order = this.orders.find((o) => o.entity_id === id);
      if (left > 0 || !order) {
        this.notFoundTimes.set(id, left - 1);
        throw new MagentoError('not-found', `GET /V1/orders/${id} failed: 404 The entity that was requested doesn't exist.`, { status: 404 });
      }
      return JSON.parse(JSON.stringify(order));
    }
    throw new Error('fake: no route ' + req.method + ' ' + req.path);
  }

  callsTo(path) { return this.calls.filter((c) => c.path === path); }
  onCall() { return () => {}; }
  close() {}
}

module.exports = { FakeMagento, magentoDate };
