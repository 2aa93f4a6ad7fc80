'use strict';
const assert = require('assert');
const crypto = require('crypto');
const w = require('../../dist/lib/orders');
const { openKeyValueStore, openRetryQueueStore } = require('../../dist/lib/stores');

const SECRET = 'shared-secret-123';
const settings = (over = {}) => ({ secret: SECRET, scheme: 'body', toleranceSeconds: 300, headers: { ...w.DEFAULT_HEADER_NAMES }, ...over });

describe('lib/orders webhook verification', () => {
  const body = Buffer.from('{"order_id":1,"increment_id":"000000001"}');
  const now = 1714557600000;
  const ts = String(now / 1000);

  it('computes the guide\'s hex HMAC-SHA256 over the raw body, or over timestamp.body', () => {
    assert.strictEqual(w.computeSignature(SECRET, body), crypto.createHmac('sha256', SECRET).update(body).digest('hex'));
    assert.strictEqual(w.computeSignature(SECRET, body, 'timestamp.body', ts),
      crypto.createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex'));
  });

  it('accepts upper-case hex and a sha256= prefix; refuses other lengths', () => {
    const sig = w.computeSignature(SECRET, body);
    assert.ok(w.signatureMatches(sig, sig.toUpperCase()));
    assert.ok(w.signatureMatches(sig, `sha256=${sig}`));
    assert.ok(!w.signatureMatches(sig, sig.slice(0, 63)));
    assert.ok(!w.signatureMatches(sig, ''));
  });

  it('reads headers case-insensitively and names the failing check without the secret', () => {
    const headers = { 'x-magento-signature': w.computeSignature(SECRET, body), 'X-MAGENTO-TIMESTAMP': ts };
    assert.deepStrictEqual(w.verifyWebhook(body, headers, settings(), now), { timestamp: Number(ts) });
    const err = (() => { try { w.verifyWebhook(Buffer.from('{}'), headers, settings(), now); } catch (e) { return e; } })();
    assert.strictEqual(err.status, 401);
    assert.strictEqual(err.reason, 'bad-signature');
    assert.ok(!err.message.includes(SECRET));
    assert.throws(() => w.verifyWebhook(body, { ...headers, 'X-MAGENTO-TIMESTAMP': '12:00' }, settings(), now), (e) => e.reason === 'bad-timestamp');
    // Tolerance 0 with the body scheme: the timestamp is not required.
    assert.deepStrictEqual(w.verifyWebhook(body, { 'x-magento-signature': headers['x-magento-signature'] }, settings({ toleranceSeconds: 0 }), now), { timestamp: undefined });
  });

  it('derives keys: header idempotency key, else order_<increment_id>_<created_at>, else a body hash', () => {
    const names = w.DEFAULT_HEADER_NAMES;
    const e1 = w.parseWebhookEvent(Buffer.from('{"order":{"increment_id":"7","created_at":"2024-01-01 00:00:00"}}'), { 'x-magento-event': 'order.placed' }, names);
    assert.strictEqual(e1.idempotencyKey, 'order_7_2024-01-01 00:00:00');
    assert.strictEqual(e1.event, 'order.placed');
    const e2 = w.parseWebhookEvent(Buffer.from('{"a":1}'), { 'x-magento-idempotency-key': 'K' }, names);
    assert.deepStrictEqual([e2.idempotencyKey, e2.deliveryId, e2.event], ['K', 'K', 'unknown']);
    const e3 = w.parseWebhookEvent(Buffer.from('[1]'), {}, names);
    assert.match(e3.idempotencyKey, /^body_[0-9a-f]{32}$/);
    assert.throws(() => w.parseWebhookEvent(Buffer.from('"text"'), {}, names), (e) => e.status === 400);
  });

  it('intake: claims ids atomically, journals, and undoes the claims when the journal fails', async () => {
    const seen = openKeyValueStore({ kind: 'memory', name: 'wh-seen-test' });
    const journal = openRetryQueueStore({ kind: 'memory', name: 'wh-journal-test' });
    const intake = new w.WebhookIntake(seen, journal, { dedupeTtlMs: 60000, maxJournal: 2 });
    const ev = (id, key) => ({ payload: {}, event: 'order.placed', idempotencyKey: key, deliveryId: id, businessKey: `order.placed|${key}` });
    const [a, b] = await Promise.all([intake.accept(ev('d1', 'k1')), intake.accept(ev('d1', 'k1'))]);
    assert.deepStrictEqual([a.outcome, b.outcome].sort(), ['accepted', 'duplicate']);
    assert.strictEqual((await intake.accept(ev('d2', 'k1'))).by, 'business-key');
    await intake.accept(ev('d3', 'k3'));
    // Journal full (2): refused with a transient error, claims undone so a retry can pass later.
    await assert.rejects(intake.accept(ev('d4', 'k4')), (e) => e.errorClass === 'transient');
    const pending = await intake.unfinished();
    assert.deepStrictEqual(pending.map((p) => p.event.deliveryId), ['d1', 'd3']);
    await intake.complete(pending[0].entryId);
    assert.strictEqual((await intake.accept(ev('d4', 'k4'))).outcome, 'accepted');
    await seen.close();
    await journal.close();
  });
});
