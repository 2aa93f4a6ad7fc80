'use strict';
const assert = require('assert');
const oauth = require('../../dist/lib/magento/oauth1');
const { encodeQueryString, encodePathSegment } = require('../../dist/lib/magento/url');

// RFC 3986 encoding written out independently of the code under test.
function rfc3986(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

describe('OAuth 1.0a signing', function () {
  describe('published test vectors (HMAC-SHA1)', function () {
    it('matches Twitter\'s documented "Creating a signature" example (query + form body)', function () {
      const signed = oauth.signRequest({
        method: 'POST',
        url: 'https://api.twitter.com/1.1/statuses/update.json?include_entities=true',
        credentials: {
          consumerKey: 'xvz1evFS4wEEPTGEFPHBog',
          consumerSecret: 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
          accessToken: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
          accessTokenSecret: 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE',
        },
        signatureMethod: 'HMAC-SHA1',
        nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg',
        timestamp: 1318622958,
        bodyParams: { status: 'Hello Ladies + Gentlemen, a signed OAuth request!' },
      });
      assert.strictEqual(signed.oauthParams.oauth_signature, 'hCtSmYh+iHYCEqBWrE7C7hYmtUk=');
      assert.match(signed.authorization, /oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D"/);
    });

    it('builds Twitter\'s documented signature base string', function () {
      const params = {
        include_entities: 'true',
        status: 'Hello Ladies + Gentlemen, a signed OAuth request!',
        oauth_consumer_key: 'xvz1evFS4wEEPTGEFPHBog',
        oauth_nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg',
        oauth_signature_method: 'HMAC-SHA1',
        oauth_timestamp: '1318622958',
        oauth_token: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
        oauth_version: '1.0',
      };
      assert.strictEqual(
        oauth.signatureBaseString('post', 'https://api.twitter.com/1.1/statuses/update.json?include_entities=true', params),
        'POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521',
      );
    });

    it('matches the OAuth Core 1.0 appendix A example (photos.example.net)', function () {
      const signed = oauth.signRequest({
        method: 'GET',
        url: 'http://photos.example.net/photos?file=vacation.jpg&size=original',
        credentials: { consumerKey: 'dpf43f3p2l4k3l03', consumerSecret: 'kd94hf93k423kf44', accessToken: 'nnch734d00sl2jdk', accessTokenSecret: 'pfkkdhi9sl3r4s00' },
        signatureMethod: 'HMAC-SHA1',
        nonce: 'kllo9940pd9333jh',
        timestamp: 1191242096,
      });
      assert.strictEqual(signed.oauthParams.oauth_signature, 'tR3+Ty81lMeYAr/Fid0kMTYa/WM=');
    });
  });

  describe('PHP strnatcmp (Laminas orders parameters with it)', function () {
    it('orders digit runs by value', function () {
      const list = ['img12.png', 'img10.png', 'img2.png', 'img1.png'];
      assert.deepStrictEqual([...list].sort(oauth.phpStrnatcmp), ['img1.png', 'img2.png', 'img10.png', 'img12.png']);
      assert.strictEqual(oauth.phpStrnatcmp('a2', 'a10'), -1);
      assert.strictEqual(oauth.phpStrnatcmp('a10', 'a2'), 1);
      assert.strictEqual(oauth.phpStrnatcmp('abc', 'abc'), 0);
      assert.strictEqual(oauth.phpStrnatcmp('', 'a'), -1);
      assert.strictEqual(oauth.phpStrnatcmp('ab', 'abc'), -1);
    });
    it('compares runs starting with 0 left-aligned, as PHP does', function () {
      assert.strictEqual(oauth.phpStrnatcmp('a01', 'a1'), -1);
    });
    it('puts searchCriteria filter group 2 before group 10 (byte order would not)', function () {
      const k2 = rfc3986('searchCriteria[filter_groups][2][filters][0][field]');
      const k10 = rfc3986('searchCriteria[filter_groups][10][filters][0][field]');
      assert.strictEqual(oauth.phpStrnatcmp(k2, k10), -1);
      assert.ok(k10 < k2, 'byte order differs, which is why the order function matters');
    });
  });

  describe('Magento\'s way of verifying', function () {
    const credentials = { consumerKey: 'ck0123456789', consumerSecret: 'cs-secret-value', accessToken: 'at-token-value', accessTokenSecret: 'ats-secret-value' };
    const query = {
      'searchCriteria[filter_groups][0][filters][0][field]': 'name',
      'searchCriteria[filter_groups][0][filters][0][value]': '50% off + (new) ~x',
      'searchCriteria[filter_groups][0][filters][0][condition_type]': 'like',
      'searchCriteria[filter_groups][10][filters][0][field]': 'sku',
      'searchCriteria[filter_groups][2][filters][0][field]': 'status',
      'searchCriteria[pageSize]': 20,
    };
    const path = '/rest/default/V1/products/' + encodePathSegment('A/B 1');
    const url = 'https://Shop.Example.COM:443' + path + '?' + encodeQueryString(query);

    it('sends brackets, spaces, %, + and parentheses percent-encoded', function () {
      assert.ok(url.includes('searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=50%25%20off%20%2B%20%28new%29%20~x'));
      assert.ok(path.endsWith('/products/A%2FB%201'));
    });

    it('builds the base string with the normalised URL, decoded bracketed keys and natural key order', function () {
      const params = { ...oauth.queryParamsForSignature(url), oauth_consumer_key: 'ck0123456789', oauth_nonce: 'n1', oauth_signature_method: 'HMAC-SHA256', oauth_timestamp: '1700000000', oauth_token: 'at-token-value', oauth_version: '1.0' };
      const sc = (s) => rfc3986('searchCriteria' + s);
      const pairs = [
        'oauth_consumer_key=ck0123456789', 'oauth_nonce=n1', 'oauth_signature_method=HMAC-SHA256',
        'oauth_timestamp=1700000000', 'oauth_token=at-token-value', 'oauth_version=1.0',
        sc('[filter_groups][0][filters][0][condition_type]') + '=like',
        sc('[filter_groups][0][filters][0][field]') + '=name',
        sc('[filter_groups][0][filters][0][value]') + '=' + rfc3986('50% off + (new) ~x'),
        sc('[filter_groups][2][filters][0][field]') + '=status',
        sc('[filter_groups][10][filters][0][field]') + '=sku',
        sc('[pageSize]') + '=20',
      ];
      const expected = 'GET&' + rfc3986('https://shop.example.com/rest/default/V1/products/A%2FB%201') + '&' + rfc3986(pairs.join('&'));
      assert.strictEqual(oauth.signatureBaseString('GET', url, params), expected);
    });

    it('keeps %2F of a SKU in the signed path, decodes escaped unreserved characters, upper-cases hex', function () {
      assert.strictEqual(oauth.normalizeSignatureUrl('HTTP://Host:80/rest/all/V1/products/a%2fb%7E%41%20c?x=1#f'), 'http://host/rest/all/V1/products/a%2Fb~A%20c');
      assert.strictEqual(oauth.normalizeSignatureUrl('https://host:8443/rest/./V1/../V1/x'), 'https://host:8443/rest/V1/x');
      assert.strictEqual(oauth.normalizeSignatureUrl('https://host'), 'https://host/');
    });

    it('reads the query like Magento: urldecode (+ is a space), only key=value pairs, no oauth_* names', function () {
      assert.deepStrictEqual(oauth.queryParamsForSignature('https://h/x?a=1+2&b=%2B&flag&c=x=y&oauth_token=zz&d='), { a: '1 2', b: '+', d: '' });
    });

    it('a signature made by the client verifies, and any change breaks it', function () {
      const signed = oauth.signRequest({ method: 'GET', url, credentials });
      const ok = oauth.verifySignature({ method: 'GET', url, authorization: signed.authorization, consumerSecret: credentials.consumerSecret, tokenSecret: credentials.accessTokenSecret });
      assert.strictEqual(ok.ok, true, ok.reason);
      assert.strictEqual(ok.params.oauth_consumer_key, credentials.consumerKey);
      assert.strictEqual(ok.params.oauth_signature_method, 'HMAC-SHA256');
      const tampered = url.replace('%5BpageSize%5D=20', '%5BpageSize%5D=21');
      assert.strictEqual(oauth.verifySignature({ method: 'GET', url: tampered, authorization: signed.authorization, consumerSecret: credentials.consumerSecret, tokenSecret: credentials.accessTokenSecret }).ok, false);
      assert.strictEqual(oauth.verifySignature({ method: 'POST', url, authorization: signed.authorization, consumerSecret: credentials.consumerSecret, tokenSecret: credentials.accessTokenSecret }).ok, false);
      assert.strictEqual(oauth.verifySignature({ method: 'GET', url, authorization: signed.authorization, consumerSecret: 'wrong', tokenSecret: credentials.accessTokenSecret }).ok, false);
      const otherPath = url.replace('A%2FB%201', 'A/B%201');
      assert.strictEqual(oauth.verifySignature({ method: 'GET', url: otherPath, authorization: signed.authorization, consumerSecret: credentials.consumerSecret, tokenSecret: credentials.accessTokenSecret }).ok, false, 'an encoded slash is not the same path as a real one');
    });

    it('HMAC-SHA256 with the RFC 3986-encoded key consumerSecret&tokenSecret', function () {
      const crypto = require('crypto');
      const base = 'GET&x&y';
      const expected = crypto.createHmac('sha256', 'a%26b&c%20d').update(base).digest('base64');
      assert.strictEqual(oauth.hmacSignature(base, 'a&b', 'c d', 'HMAC-SHA256'), expected);
    });

    it('parses the Authorization header as Magento does and refuses unknown methods', function () {
      assert.deepStrictEqual(oauth.parseAuthorizationHeader('OAuth realm="x",oauth_consumer_key="a%20b", oauth_signature="c%3D"'), { oauth_consumer_key: 'a b', oauth_signature: 'c=' });
      const r = oauth.verifySignature({ method: 'GET', url: 'https://h/x', authorization: 'OAuth oauth_signature_method="PLAINTEXT",oauth_signature="x"', consumerSecret: 'a', tokenSecret: 'b' });
      assert.strictEqual(r.ok, false);
      assert.match(r.reason, /PLAINTEXT/);
    });
  });
});
