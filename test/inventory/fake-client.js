'use strict';
// A small stand-in for MagentoClient (lib/magento/types.ts) for unit tests of the push core:
// `handler(req)` answers each request (throw to fail); every request is recorded.
const { IntegrationError } = require('../../dist/lib/errors');

function fakeClient(handler, settings = {}) {
  const calls = [];
  const client = {
    settings: {
      name: 'fake', baseUrl: 'http://127.0.0.1', storeCode: 'default', auth: { type: 'none' }, timeoutMs: 1000,
      maxConcurrency: 4, requestsPerSecond: 0, rejectUnauthorized: true,
      ...settings,
      limits: { maxItemsPerRequest: 20, maxPageSize: 300, maxBulkItems: 5000, ...(settings.limits || {}) },
    },
    calls,
    async request(req) {
      calls.push(req);
      return handler(req);
    },
    async search(path, criteria, options) {
      const req = { method: 'GET', path, criteria, options };
      calls.push(req);
      return handler(req);
    },
    async *pages(path, criteria, options) {
      const page = await client.search(path, criteria, options);
      yield { ...page, page: 1, pages: 1 };
    },
    onCall() { return () => undefined; },
    close() {},
  };
  return client;
}

function httpError(status, message, extra = {}) {
  const cls = status >= 500 || status === 429 ? 'transient' : status === 404 ? 'not-found' : status === 401 ? 'auth' : 'validation';
  const err = new IntegrationError(cls, message, { status });
  Object.assign(err, extra);
  return err;
}

module.exports = { fakeClient, httpError };
