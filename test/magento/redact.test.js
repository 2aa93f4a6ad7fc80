'use strict';
const assert = require('assert');
const { Redactor, redact, redactText, REDACTED } = require('../../dist/lib/redact');

describe('redact', function () {
  it('removes known secret values, also URL- and JSON-encoded', function () {
    const r = new Redactor(['s3cr3t/+value', 'ab']);
    assert.strictEqual(r.text('x s3cr3t/+value y'), `x ${REDACTED} y`);
    assert.strictEqual(r.text('u=' + encodeURIComponent('s3cr3t/+value')), `u=${REDACTED}`);
    assert.strictEqual(r.text('ab stays: too short to scrub by value'), 'ab stays: too short to scrub by value');
  });

  it('removes Authorization header contents it was not told about', function () {
    assert.strictEqual(redactText('Authorization: Bearer abc.def-ghi'), `Authorization: ${REDACTED}`);
    assert.doesNotMatch(redactText('authorization: OAuth oauth_consumer_key="k",oauth_token="t1",oauth_signature="zz%3D"'), /t1|zz%3D/);
    assert.doesNotMatch(redactText('sent with bearer eyJhbGciOi.J9x'), /eyJhbGciOi/);
    // Prose about Bearer tokens (the 2.4.4 hint) is not a token.
    const hint = 'Magento 2.4.4+ refuses integration tokens used as Bearer tokens unless the store allows standalone Bearer tokens';
    assert.strictEqual(redactText(hint), hint);
    assert.doesNotMatch(redactText('Bearer abcdefghijklmnopqrstuvwxyzABCDEF'), /abcdefghijklmnop/);
    assert.doesNotMatch(redactText('Bearer 7d3kq9x2'), /7d3kq9x2/);
    assert.strictEqual(redactText('?oauth_token=abc&x=1'), `?oauth_token=${REDACTED}&x=1`);
    assert.doesNotMatch(redactText('{"username":"admin","password":"p@ss word"}'), /p@ss/);
  });

  it('scrubs objects deeply: secret-named keys, headers, axios config', function () {
    const input = {
      store: 'eu',
      credentials: { consumerKey: 'ck', consumerSecret: 'cs-123456', accessToken: 'at-123456' },
      headers: { Authorization: 'Bearer x', Accept: 'application/json' },
      config: { url: 'https://shop', headers: { Authorization: 'Bearer x' } },
      nested: [{ note: 'token at-123456 used' }],
      err: Object.assign(new Error('failed with at-123456'), { code: 'E1' }),
    };
    const out = redact(input, ['at-123456']);
    const text = JSON.stringify(out);
    assert.ok(!text.includes('cs-123456') && !text.includes('at-123456') && !text.includes('Bearer x'), text);
    assert.strictEqual(out.store, 'eu');
    assert.strictEqual(out.credentials.consumerKey, 'ck');
    assert.strictEqual(out.headers.Accept, 'application/json');
    assert.strictEqual(out.config, REDACTED);
    assert.deepStrictEqual(out.err, { name: 'Error', message: `failed with ${REDACTED}`, code: 'E1' });
    assert.strictEqual(input.credentials.consumerSecret, 'cs-123456', 'the input is not changed');
  });

  it('copes with cycles and buffers', function () {
    const a = { b: Buffer.from('xyz') };
    a.self = a;
    assert.deepStrictEqual(redact(a), { b: '[3 bytes]', self: '[circular]' });
  });
});
