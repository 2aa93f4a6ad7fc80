/**
 * Input messages of a push node while their items are on the way. With coalescing, one batch may hold
 * items of many messages and one message's items may travel in many batches; this book keeps each
 * message until all its items are settled, then says how to end it: plain `done()`, or `done(err)` with
 * the message now carrying exactly the items to retry (what retry-queue re-sends).
 */
import { IntegrationError } from '../errors';
import { TicketSettlement } from './pipeline';

export interface TicketMessage {
  _msgid?: string;
  payload?: unknown;
  [key: string]: unknown;
}

/**
 * The items of a push message: one item, an array, or the ERP envelope `{items: [...]}` of
 * schemas/erp-stock.schema.json and erp-prices.schema.json.
 */
export function itemsOf(payload: unknown): { items: unknown[]; wasArray: boolean } {
  if (Array.isArray(payload)) return { items: payload, wasArray: true };
  if (payload && typeof payload === 'object' && Array.isArray((payload as { items?: unknown }).items) && (payload as { sku?: unknown }).sku === undefined) {
    return { items: (payload as { items: unknown[] }).items, wasArray: true };
  }
  return { items: [payload], wasArray: false };
}

interface Open<M> {
  msg: M;
  items: unknown[];
  wasArray: boolean;
}

/** Properties never copied from an input message onto a result (HTTP objects, control flags). */
const NOT_COPIED = new Set(['_msgid', 'payload', 'flush', 'failure', 'req', 'res', 'error']);

export class TicketBook<M extends TicketMessage> {
  private readonly open = new Map<string, Open<M>>();
  private counter = 0;

  get size(): number {
    return this.open.size;
  }

  /** Registers a message whose payload is an item or an array of items; returns its ticket. */
  add(msg: M): string {
    const ticket = `${msg._msgid ?? 'msg'}#${++this.counter}`;
    const { items, wasArray } = itemsOf(msg.payload);
    this.open.set(ticket, { msg, items, wasArray });
    return ticket;
  }

  msgidOf(ticket: string): string | undefined {
    return this.open.get(ticket)?.msg._msgid;
  }

  /**
   * A result message: the input message's own properties (topic, correlation ids) when the batch holds
   * items of one message only, else a fresh message. Shallow: the input payload is not cloned.
   */
  resultMessage(payload: unknown, tickets: string[], topic?: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const only = tickets.length === 1 ? this.open.get(tickets[0]) : undefined;
    if (only) {
      for (const [k, v] of Object.entries(only.msg)) if (!NOT_COPIED.has(k)) out[k] = v;
    } else if (topic) {
      out.topic = topic;
    }
    out.payload = payload;
    return out;
  }

  /**
   * Closes a settled ticket. `error` is set when items failed as a whole batch: `msg.payload` then holds
   * just those items (in their original form) and the error says how many.
   */
  settle<T>(settlement: TicketSettlement<T>, noun: string): { msg: M; error?: IntegrationError } | undefined {
    const record = this.open.get(settlement.ticket);
    if (!record) return undefined;
    this.open.delete(settlement.ticket);
    if (!settlement.failed.length) return { msg: record.msg };
    const indexes = Array.from(new Set(settlement.failed.map((f) => f.entry.index))).sort((a, b) => a - b);
    const retry = indexes.map((i) => record.items[i]);
    record.msg.payload = record.wasArray || retry.length > 1 ? retry : retry[0];
    const cause = settlement.error ?? new IntegrationError('transient', 'not applied');
    const error = new IntegrationError(cause.errorClass, `${indexes.length} of ${record.items.length} ${noun} not applied: ${cause.message}`, {
      status: cause.status, code: cause.code, retryAfterMs: cause.retryAfterMs, target: cause.target, operation: cause.operation,
      details: { ...(cause.details ?? {}), retryItems: indexes.length, indexes },
      cause,
    });
    return { msg: record.msg, error };
  }
}
