/**
 * Order events sent the way a Magento webhook module sends them: a JSON body, `X-Magento-Signature` =
 * hex HMAC-SHA256 of the raw body (or of `timestamp + "." + body` when `signTimestamp` is on),
 * `X-Magento-Timestamp` (unix seconds), `X-Magento-Event` and `X-Magento-Idempotency-Key` (one per
 * delivery, repeated on a duplicate). Duplicates and out-of-order delivery on demand, so receivers can be
 * shown to cope.
 */
import { createHmac, randomUUID } from 'crypto';
import http from 'http';
import https from 'https';
import type { Order } from './order-factory';

export interface WebhookConfig {
  url?: string;
  secret?: string;
  /** Sign `timestamp + "." + body` instead of the body alone. */
  signTimestamp?: boolean;
}

export interface Delivery {
  id: string;
  event: string;
  orderId: number;
  incrementId: string;
  attempt: number;
  duplicate: boolean;
  status?: number;
  /** First 500 characters of the receiver's answer when it was not 2xx. */
  response?: string;
  error?: string;
  time: string;
}

export interface SendOptions {
  /** Deliver each event twice with the same idempotency key. */
  duplicate?: boolean;
  /** Deliver a batch newest first. */
  outOfOrder?: boolean;
}

export function webhookBody(event: string, order: Order): Record<string, unknown> {
  return {
    event,
    order_id: order.entity_id,
    increment_id: order.increment_id,
    state: order.state,
    status: order.status,
    store_id: order.store_id,
    customer_email: order.customer_email,
    grand_total: order.grand_total,
    order_currency_code: order.order_currency_code,
    created_at: order.created_at,
    updated_at: order.updated_at,
  };
}

export function signWebhook(secret: string, rawBody: string, timestamp: number, withTimestamp: boolean): string {
  return createHmac('sha256', secret).update(withTimestamp ? `${timestamp}.${rawBody}` : rawBody).digest('hex');
}

export class WebhookSender {
  readonly deliveries: Delivery[] = [];
  private inflight = new Set<Promise<void>>();

  constructor(public config: WebhookConfig) {}

  get enabled(): boolean {
    return Boolean(this.config.url && this.config.secret);
  }

  /** Sends one event per order (sequentially, in order unless `outOfOrder`); resolves when all were answered. */
  async send(event: string, orders: Order[], options: SendOptions = {}): Promise<Delivery[]> {
    if (!this.enabled || !orders.length) return [];
    const list = options.outOfOrder ? [...orders].reverse() : orders;
    const out: Delivery[] = [];
    for (const order of list) {
      const body = JSON.stringify(webhookBody(event, order));
      const id = randomUUID();
      out.push(await this.deliver(event, order, body, id, false));
      if (options.duplicate) out.push(await this.deliver(event, order, body, id, true));
    }
    return out;
  }

  /** Fire and forget (state changes must not wait for the receiver); `idle()` waits for them. */
  emit(event: string, orders: Order[], options?: SendOptions): void {
    if (!this.enabled) return;
    const p = this.send(event, orders, options).then(() => undefined, () => undefined);
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
  }

  private deliver(event: string, order: Order, body: string, id: string, duplicate: boolean): Promise<Delivery> {
    const ts = Math.floor(Date.now() / 1000);
    const signature = signWebhook(this.config.secret!, body, ts, Boolean(this.config.signTimestamp));
    const record: Delivery = { id, event, orderId: order.entity_id, incrementId: order.increment_id, attempt: 1, duplicate, time: new Date().toISOString() };
    this.deliveries.push(record);
    if (this.deliveries.length > 5000) this.deliveries.splice(0, this.deliveries.length - 5000);
    return new Promise((resolve) => {
      let url: URL;
      try { url = new URL(this.config.url!); } catch { record.error = 'invalid webhook URL'; resolve(record); return; }
      const lib = url.protocol === 'https:' ? https : http;
      const req = lib.request(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          'User-Agent': 'Magento-Sandbox-Webhook/1.0',
          'X-Magento-Event': event,
          'X-Magento-Signature': signature,
          'X-Magento-Timestamp': String(ts),
          'X-Magento-Idempotency-Key': id,
        },
        timeout: 10_000,
      }, (res) => {
        record.status = res.statusCode;
        const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { if (!ok && text.length < 500) text += chunk; });
        res.on('end', () => { if (!ok && text) record.response = text.slice(0, 500); resolve(record); });
        res.on('error', () => resolve(record));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) => { record.error = err.message; resolve(record); });
      req.end(body);
    });
  }
}
