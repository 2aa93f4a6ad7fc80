'use strict';
const assert = require('assert');
const { MagentoError, fromHttpAnswer, fromNetworkError, toMagentoError, fillMessageParameters } = require('../../dist/lib/magento/errors');
const { IntegrationError } = require('../../dist/lib/errors');
const { Redactor } = require('../../dist/lib/redact');

describe('MagentoError', function () {
  it('fills %1 and %name parameters (array or object)', function () {
    assert.strictEqual(fillMessageParameters('The "%1" product with "%2" SKU does not exist.', ['simple', 'A-1']), 'The "simple" product with "A-1" SKU does not exist.');
    assert.strictEqual(fillMessageParameters('The consumer isn\'t authorized to access %resources.', { resources: 'Magento_Sales::actions_view' }), 'The consumer isn\'t authorized to access Magento_Sales::actions_view.');
    assert.strictEqual(fillMessageParameters('%fieldName is a required field.', { fieldName: 'sku' }), 'sku is a required field.');
    assert.strictEqual(fillMessageParameters('Max %max, type %type, left %3', { type: 't', max: 5 }), 'Max 5, type t, left %3');
    assert.strictEqual(fillMessageParameters('no params %1', undefined), 'no params %1');
  });

  const table = [
    [400, 'validation'], [401, 'auth'], [403, 'auth'], [404, 'not-found'], [405, 'permanent'], [408, 'transient'],
    [409, 'permanent'], [422, 'validation'], [429, 'transient'], [500, 'transient'], [502, 'transient'], [503, 'transient'],
  ];
  for (const [status, cls] of table) {
    it(`classifies HTTP ${status} as ${cls}`, function () {
      const e = fromHttpAnswer({ status, data: { message: 'x' } });
      assert.ok(e instanceof MagentoError && e instanceof IntegrationError);
      assert.strictEqual(e.errorClass, cls);
      assert.strictEqual(e.status, status);
      assert.strictEqual(e.retryable, cls === 'transient');
    });
  }

  it('classifies network failures: resets and timeouts are transient, certificates are not', function () {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EPIPE']) {
      assert.strictEqual(fromNetworkError(Object.assign(new Error('boom'), { code })).errorClass, 'transient', code);
    }
    const timeout = toMagentoError(Object.assign(new Error('timeout of 50ms exceeded'), { code: 'ECONNABORTED' }), { timeoutMs: 50, method: 'GET', route: '/rest/default/V1/orders', target: 'eu' });
    assert.strictEqual(timeout.errorClass, 'transient');
    assert.strictEqual(timeout.reason, 'timeout');
    assert.strictEqual(timeout.code, 'ETIMEDOUT');
    assert.match(timeout.message, /GET \/rest\/default\/V1\/orders \(store "eu"\) failed: no answer within 50 ms/);
    const dns = fromNetworkError(Object.assign(new Error('getaddrinfo ENOTFOUND shop.invalid'), { code: 'ENOTFOUND' }));
    assert.strictEqual(dns.reason, 'dns');
    assert.match(dns.message, /base URL/);
    const cert = fromNetworkError(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }));
    assert.strictEqual(cert.reason, 'certificate');
    assert.strictEqual(cert.errorClass, 'permanent');
    assert.match(cert.message, /certificate/);
  });

  it('reads Retry-After in seconds or as an HTTP date', function () {
    assert.strictEqual(fromHttpAnswer({ status: 429, data: { message: 'Too many' }, headers: { 'Retry-After': '7' } }).retryAfterMs, 7000);
    const at = new Date(Date.now() + 60000).toUTCString();
    const ms = fromHttpAnswer({ status: 503, data: '', headers: { 'retry-after': at } }).retryAfterMs;
    assert.ok(ms > 55000 && ms <= 60000, String(ms));
    assert.strictEqual(fromHttpAnswer({ status: 503, data: '' }).retryAfterMs, undefined);
  });

  it('recognises Maximum items of type "%type" is %max and exposes inputLimit', function () {
    const e = fromHttpAnswer({ status: 400, data: { message: 'Maximum items of type "%type" is %max', parameters: { type: '\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface', max: 20 } } });
    assert.deepStrictEqual(e.inputLimit, { type: '\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface', max: 20 });
    assert.strictEqual(e.reason, 'input-limit');
    assert.strictEqual(e.errorClass, 'validation');
    assert.match(e.message, /Maximum items of type "\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface" is 20/);
    assert.deepStrictEqual(e.toJSON().details.inputLimit, { type: '\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface', max: 20 });
    const filled = fromHttpAnswer({ status: 400, data: { message: 'Maximum items of type "Foo" is 5' } });
    assert.deepStrictEqual(filled.inputLimit, { type: 'Foo', max: 5 });
  });

  it('explains a two-factor authentication refusal of the admin token', function () {
    const e = fromHttpAnswer({ status: 401, data: { message: 'Please use the 2fa provider-specific endpoints to obtain a token.', parameters: { active_providers: ['google'] } } }, { adminTokenRequest: true, authType: 'admin' });
    assert.strictEqual(e.reason, 'two-factor-auth');
    assert.strictEqual(e.errorClass, 'auth');
    assert.match(e.message, /Two-Factor Authentication/);
    assert.match(e.message, /integration/);
  });

  it('gives the 2.4.4 hint on a 401 with a Bearer token, not with OAuth', function () {
    const data = { message: 'The consumer isn\'t authorized to access %resources.', parameters: { resources: 'Magento_Sales::sales' } };
    const bearer = fromHttpAnswer({ status: 401, data }, { authType: 'bearer' });
    assert.strictEqual(bearer.reason, 'integration-bearer-refused');
    assert.match(bearer.message, /Magento_Sales::sales/);
    assert.match(bearer.message, /2\.4\.4/);
    assert.match(bearer.message, /enable_integration_as_bearer/);
    const oauth = fromHttpAnswer({ status: 401, data }, { authType: 'oauth1' });
    assert.doesNotMatch(oauth.message, /enable_integration_as_bearer/);
    assert.strictEqual(oauth.reason, 'consumer-not-authorized');
  });

  it('explains wrong admin credentials', function () {
    const e = fromHttpAnswer({ status: 401, data: { message: 'The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later.' } }, { adminTokenRequest: true });
    assert.strictEqual(e.reason, 'admin-credentials');
  });

  it('says so when the answer is an HTML error page', function () {
    const e = fromHttpAnswer({ status: 502, data: '<html><body>Bad Gateway</body></html>' });
    assert.strictEqual(e.errorClass, 'transient');
    assert.match(e.message, /non-JSON/);
  });

  it('keeps no request data: an axios error\'s config and headers never reach the error', function () {
    const axiosLike = Object.assign(new Error('Request failed with status code 500'), {
      isAxiosError: true,
      config: { headers: { Authorization: 'Bearer super-secret-token-123' }, data: '{"password":"hunter2-secret"}' },
      request: { _header: 'GET / HTTP/1.1\r\nAuthorization: Bearer super-secret-token-123' },
      response: { status: 500, data: { message: 'Token super-secret-token-123 failed' }, headers: { 'retry-after': '1' } },
    });
    const e = toMagentoError(axiosLike, { redactor: new Redactor(['super-secret-token-123', 'hunter2-secret']) });
    const everything = JSON.stringify(e) + e.message + e.stack + JSON.stringify(Object.assign({}, e));
    assert.ok(!everything.includes('super-secret-token-123'), everything);
    assert.ok(!everything.includes('hunter2'));
    assert.ok(!('config' in e) && !('request' in e) && !('response' in e));
    assert.strictEqual(e.status, 500);
    assert.strictEqual(e.retryAfterMs, 1000);
  });
});
