'use strict';
// package.json "main" points at dist/lib/index.js: what a script using the pack outside Node-RED imports.
const assert = require('assert');
const pkg = require('../../package.json');
const path = require('path');

describe('package entry point (main)', function () {
  const core = require(path.join(__dirname, '../..', pkg.main));

  it('exports the Magento client, searchCriteria and the typed errors', function () {
    assert.strictEqual(typeof core.createMagentoClient, 'function');
    assert.strictEqual(typeof core.encodePathSegment, 'function');
    assert.strictEqual(core.encodePathSegment('a/b c'), 'a%2Fb%20c');
    const query = core.toQuery(core.searchCriteria().where('status', 'pending', 'eq').pageSize(10).build());
    assert.strictEqual(query['searchCriteria[filter_groups][0][filters][0][field]'], 'status');
    assert.ok(new core.ValidationError('sku', 'is empty') instanceof core.IntegrationError);
  });

  it('exports each core area as a namespace', function () {
    for (const area of ['mapping', 'orders', 'inventory', 'prices', 'fulfilment', 'products', 'stores', 'audit', 'erp']) {
      assert.strictEqual(typeof core[area], 'object', area);
      assert.ok(Object.keys(core[area]).length > 0, `${area} exports something`);
    }
    assert.strictEqual(typeof core.mapping.mapOrder, 'function');
    assert.strictEqual(typeof core.erp.createErpClient, 'function');
    assert.strictEqual(typeof core.erp.classifyErpAnswer, 'function');
  });
});
