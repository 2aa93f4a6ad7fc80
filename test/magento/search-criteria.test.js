'use strict';
const assert = require('assert');
const sc = require('../../dist/lib/magento/search-criteria');
const { encodeQueryString, encodePathSegment } = require('../../dist/lib/magento/url');

describe('searchCriteria', function () {
  it('writes Magento\'s exact bracketed syntax: groups AND, filters OR, sort, page', function () {
    const criteria = sc.searchCriteria()
      .where('updated_at', '2024-05-01 00:00:00', 'gteq')
      .whereAny([{ field: 'status', value: 'processing' }, { field: 'status', value: ['pending', 'holded'], conditionType: 'in' }])
      .sortBy('updated_at', 'ASC')
      .sortBy('entity_id')
      .pageSize(50)
      .currentPage(2)
      .build();
    assert.deepStrictEqual(sc.toQuery(criteria), {
      'searchCriteria[filter_groups][0][filters][0][field]': 'updated_at',
      'searchCriteria[filter_groups][0][filters][0][value]': '2024-05-01 00:00:00',
      'searchCriteria[filter_groups][0][filters][0][condition_type]': 'gteq',
      'searchCriteria[filter_groups][1][filters][0][field]': 'status',
      'searchCriteria[filter_groups][1][filters][0][value]': 'processing',
      'searchCriteria[filter_groups][1][filters][0][condition_type]': 'eq',
      'searchCriteria[filter_groups][1][filters][1][field]': 'status',
      'searchCriteria[filter_groups][1][filters][1][value]': 'pending,holded',
      'searchCriteria[filter_groups][1][filters][1][condition_type]': 'in',
      'searchCriteria[sortOrders][0][field]': 'updated_at',
      'searchCriteria[sortOrders][0][direction]': 'ASC',
      'searchCriteria[sortOrders][1][field]': 'entity_id',
      'searchCriteria[sortOrders][1][direction]': 'ASC',
      'searchCriteria[pageSize]': 50,
      'searchCriteria[currentPage]': 2,
    });
  });

  it('knows every condition type Magento knows', function () {
    assert.deepStrictEqual([...sc.CONDITION_TYPES].sort(), ['eq', 'finset', 'from', 'gt', 'gteq', 'in', 'like', 'lt', 'lteq', 'moreq', 'neq', 'nfinset', 'nin', 'nlike', 'notnull', 'null', 'to'].sort());
    for (const ct of sc.CONDITION_TYPES) {
      const value = ct === 'in' || ct === 'nin' ? ['a', 'b'] : 'v';
      const q = sc.toQuery({ filterGroups: [[{ field: 'f', value, conditionType: ct }]] });
      assert.strictEqual(q['searchCriteria[filter_groups][0][filters][0][condition_type]'], ct);
      const back = sc.fromQuery(q);
      assert.deepStrictEqual(back.filterGroups[0][0].conditionType, ct);
    }
  });

  it('an empty criteria is still a searchCriteria (Magento answers 400 without one)', function () {
    assert.deepStrictEqual(sc.toQuery({ filterGroups: [] }), { searchCriteria: '' });
    assert.strictEqual(encodeQueryString(sc.toQuery({ filterGroups: [] })), 'searchCriteria=');
    assert.strictEqual(sc.fromQuery('searchCriteria=').present, true);
    assert.strictEqual(sc.fromQuery('foo=1').present, false);
  });

  it('round-trips through the encoded query string', function () {
    const criteria = {
      filterGroups: [
        [{ field: 'sku', value: 'A/B 1#2+(x)%', conditionType: 'like' }, { field: 'name', value: '50% off', conditionType: 'eq' }],
        [{ field: 'entity_id', value: ['1', '2', '3'], conditionType: 'nin' }],
        [{ field: 'customer_email', conditionType: 'notnull', value: '1' }],
      ],
      sortOrders: [{ field: 'created_at', direction: 'DESC' }],
      pageSize: 300,
      currentPage: 7,
    };
    const qs = encodeQueryString(sc.toQuery(criteria));
    const back = sc.fromQuery(qs);
    assert.strictEqual(back.present, true);
    delete back.present;
    assert.deepStrictEqual(back, criteria);
  });

  it('reads camelCase filterGroups / conditionType and value[] lists as Magento accepts them', function () {
    const parsed = sc.fromQuery({
      'searchCriteria[filterGroups][0][filters][0][field]': 'status',
      'searchCriteria[filterGroups][0][filters][0][value]': 'pending, processing',
      'searchCriteria[filterGroups][0][filters][0][conditionType]': 'in',
      'searchCriteria[filter_groups][1][filters][0][field]': 'sku',
      'searchCriteria[filter_groups][1][filters][0][value][]': ['a', 'b'],
      'searchCriteria[filter_groups][1][filters][0][condition_type]': 'in',
      'searchCriteria[sortOrders][0][field]': 'entity_id',
      'searchCriteria[sortOrders][0][direction]': 'desc',
      'searchCriteria[pageSize]': '10',
    });
    assert.deepStrictEqual(parsed.filterGroups, [
      [{ field: 'status', conditionType: 'in', value: ['pending', 'processing'] }],
      [{ field: 'sku', conditionType: 'in', value: ['a', 'b'] }],
    ]);
    assert.deepStrictEqual(parsed.sortOrders, [{ field: 'entity_id', direction: 'DESC' }]);
    assert.strictEqual(parsed.pageSize, 10);
    assert.strictEqual(parsed.currentPage, undefined);
  });

  it('rejects what Magento rejects, naming the key', function () {
    assert.throws(() => sc.fromQuery('searchCriteria[filter_groups][0][filters][0][field]=a&searchCriteria[filter_groups][0][filters][0][condition_type]=bogus'),
      (e) => e.errorClass === 'validation' && /condition_type/.test(e.field) && /bogus/.test(e.message));
    assert.throws(() => sc.fromQuery('searchCriteria[pageSize]=abc'), (e) => e.field === 'searchCriteria[pageSize]');
    assert.throws(() => sc.fromQuery('searchCriteria[filter_groups][0][filters][0][value]=1'), /field.*is missing/);
    assert.throws(() => sc.toQuery({ filterGroups: [[{ field: 'a', value: [1, 2], conditionType: 'eq' }]] }), (e) => e.field === 'searchCriteria.filterGroups[0][0].value');
    assert.throws(() => sc.searchCriteria().pageSize(0).build(), (e) => e.field === 'searchCriteria.pageSize');
    assert.throws(() => sc.searchCriteria().sortBy('x', 'UP').build(), (e) => e.field === 'searchCriteria.sortOrders[0].direction');
  });

  it('adds a unique tiebreak sort key only when missing', function () {
    const c = { filterGroups: [], sortOrders: [{ field: 'updated_at', direction: 'ASC' }] };
    assert.deepStrictEqual(sc.withStableSort(c).sortOrders, [{ field: 'updated_at', direction: 'ASC' }, { field: 'entity_id', direction: 'ASC' }]);
    const already = { filterGroups: [], sortOrders: [{ field: 'entity_id', direction: 'DESC' }] };
    assert.strictEqual(sc.withStableSort(already), already);
    assert.deepStrictEqual(sc.withStableSort({ filterGroups: [] }, 'increment_id').sortOrders, [{ field: 'increment_id', direction: 'ASC' }]);
  });

  it('encodes path parameters (SKUs with /, spaces, #, +, ?, %)', function () {
    assert.strictEqual(encodePathSegment('A/B 1#2+3?%'), 'A%2FB%201%232%2B3%3F%25');
    assert.strictEqual(encodePathSegment('24-MB01'), '24-MB01');
    assert.strictEqual(encodePathSegment("t(e)s't*!"), 't%28e%29s%27t%2A%21');
    assert.strictEqual(encodePathSegment('..'), '%2E%2E');
    assert.strictEqual(encodePathSegment(42), '42');
    assert.throws(() => encodePathSegment(''), (e) => e.errorClass === 'validation');
  });
});
