'use strict';
/**
 * webhook-in answers its path from the top of Node-RED's HTTP stack only when nothing in between applies to
 * it. With httpNodeAuth set, a real Node-RED puts Basic authentication in front of httpNode: a correctly
 * signed webhook without the credentials must still be refused, and one with them accepted.
 */
const assert = require('assert');
const crypto = require('crypto');
const S = require('./examples-support');

describe('webhook-in behind httpNodeAuth (a real Node-RED)', function () {
  this.timeout(180000);
  let stack;
  const user = 'hook';
  const password = 'hook-password';
  // Node-RED's httpNodeAuth takes a bcrypt hash: this one is of "hook-password".
  const PASSWORD_HASH = '$2b$08$rK4W1B0sXOV2XG6OUqKSy.VqnG4nQBWn9eapMZ5LFR96DzAOPFpRS';

  before(async function () {
    stack = await S.startStack({ settings: { httpNodeAuth: { user, pass: PASSWORD_HASH } } });
  });
  after(async function () {
    if (stack) await stack.stop();
  });

  it('refuses a correctly signed webhook without the credentials (401) and accepts it with them', async function () {
    const nodes = [
      { id: 'auth-tab', type: 'tab', label: 'auth' },
      { id: 'auth-hook', type: 'magento-webhook-in', z: 'auth-tab', url: '/secured/webhook', scheme: 'body', respond: 'accept', storeKind: 'memory', x: 100, y: 100, wires: [[]],
        credentials: { secret: '${WEBHOOK_SECRET}' } },
    ];
    await S.deploy(stack, nodes);
    const body = JSON.stringify({ order_id: 7, increment_id: '000000007', created_at: '2024-05-01 10:00:00' });
    const headers = {
      'X-Magento-Signature': crypto.createHmac('sha256', stack.webhookSecret).update(body).digest('hex'),
      'X-Magento-Timestamp': String(Math.floor(Date.now() / 1000)),
      'X-Magento-Delivery-Id': 'auth-1',
    };
    const url = `${stack.nodeRedUrl}/secured/webhook`;
    const anonymous = await S.http('POST', url, body, headers);
    assert.strictEqual(anonymous.status, 401, 'Node-RED\'s Basic authentication ran first');
    const basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const wrong = await S.http('POST', url, body, { ...headers, Authorization: `Basic ${Buffer.from(`${user}:nope`).toString('base64')}` });
    assert.strictEqual(wrong.status, 401);
    const accepted = await S.http('POST', url, body, { ...headers, Authorization: basic });
    assert.strictEqual(accepted.status, 200, JSON.stringify(accepted.body));
    assert.strictEqual(accepted.body.status, 'accepted');
  });
});
