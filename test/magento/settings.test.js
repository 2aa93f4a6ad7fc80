'use strict';
const assert = require('assert');
const { settingsFromConfig, expandEnv, describeSettings } = require('../../dist/lib/magento/settings');
const { isSecretKey } = require('../../dist/lib/redact');

describe('store settings from the store-config form', function () {
  const env = { HOST: 'shop.example.com', KEY: 'ck', SECRET: ' s p a c e d ', EMPTY: '' };
  const lookup = (n) => env[n];

  it('expands ${VAR} alone or inside text, in properties and credentials', function () {
    const s = settingsFromConfig(
      { name: 'EU', baseUrl: 'https://${HOST}/', storeCode: '', authType: 'oauth1', timeout: '', maxConcurrency: '2', requestsPerSecond: '5', rejectUnauthorized: false, maxPageSize: '100' },
      { consumerKey: '${KEY}', consumerSecret: '${SECRET}', accessToken: 'at', accessTokenSecret: 'ats' },
      lookup,
    );
    assert.strictEqual(s.baseUrl, 'https://shop.example.com');
    assert.strictEqual(s.storeCode, 'default');
    assert.deepStrictEqual(s.auth, { type: 'oauth1', consumerKey: 'ck', consumerSecret: ' s p a c e d ', accessToken: 'at', accessTokenSecret: 'ats' });
    assert.strictEqual(s.timeoutMs, 30000);
    assert.strictEqual(s.maxConcurrency, 2);
    assert.strictEqual(s.requestsPerSecond, 5);
    assert.strictEqual(s.rejectUnauthorized, false);
    assert.deepStrictEqual(s.limits, { maxItemsPerRequest: 20, maxPageSize: 100, maxBulkItems: 5000 });
    assert.ok(!JSON.stringify(describeSettings(s)).includes('s p a c e d'));
  });

  it('names the field of a variable that is not set or empty', function () {
    assert.throws(() => expandEnv('https://${NOPE}', 'baseUrl', lookup), (e) => e.field === 'baseUrl' && /NOPE is not set/.test(e.message));
    assert.throws(() => settingsFromConfig({ baseUrl: 'https://x', authType: 'bearer' }, { token: '${EMPTY}' }, lookup), (e) => e.field === 'credentials.token');
    assert.strictEqual(expandEnv('no refs', 'f', lookup), 'no refs');
  });

  it('validates numbers, auth type and required secrets', function () {
    assert.throws(() => settingsFromConfig({ baseUrl: 'https://x', authType: 'none', timeout: 'soon' }, {}, lookup), (e) => e.field === 'timeoutMs');
    assert.throws(() => settingsFromConfig({ baseUrl: 'https://x', authType: 'kerberos' }, {}, lookup), (e) => e.field === 'authType');
    assert.throws(() => settingsFromConfig({ baseUrl: 'https://x', authType: 'admin' }, { username: 'a' }, lookup), (e) => e.field === 'credentials.password');
    assert.strictEqual(settingsFromConfig({ baseUrl: 'https://x', authType: 'none', storeCode: 'all' }, {}, lookup).storeCode, 'all');
  });

  it('exports the secret-key test used by other redacting code', function () {
    assert.ok(isSecretKey('Authorization') && isSecretKey('consumerSecret') && !isSecretKey('consumerKey'));
  });
});
