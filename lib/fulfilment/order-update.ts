/**
 * Status and comment updates from the ERP: `POST /V1/orders/{id}/comments`, `/cancel`, `/hold`, `/unhold`,
 * by increment id. Magento answers `false` (cancel) or a 400 (hold, unhold) when the order's state does not
 * allow the move; both become an error that says the order's state and why. Asking for a state the order
 * is already in (cancel a canceled order, hold a held one) changes nothing and is not an error, so an ERP
 * that sends an update twice does no harm.
 */
import { IntegrationError } from '../errors';
import { MagentoError } from '../magento/errors';
import type { MagentoClient } from '../magento/types';
import { findOrder, orderState } from './order-lookup';
import { KeyedLock } from './keyed-lock';
import { OrderAction, OrderUpdate, OrderUpdateResult } from './types';
import { validateOrderUpdate } from './validate';

export interface OrderUpdateDefaults {
  /** Action when the message gives none. */
  action?: OrderAction;
  notify?: boolean;
  visibleOnFront?: boolean;
}

/** The state each action leads to, to tell "already there" from "refused". */
const TARGET_STATE: Partial<Record<OrderAction, string>> = { cancel: 'canceled', hold: 'holded' };

const WHY_NOT: Record<Exclude<OrderAction, 'comment'>, string> = {
  cancel: 'Magento cancels an order only while something is left to ship or invoice and it is neither on hold nor in payment review',
  hold: 'Magento holds an order only while it is new or processing (not complete, closed, canceled or in payment review)',
  unhold: 'the order is not on hold',
};

export class OrderUpdater {
  private readonly locks = new KeyedLock();

  constructor(private readonly client: MagentoClient, private readonly defaults: OrderUpdateDefaults = {}) {}

  async update(input: unknown): Promise<OrderUpdateResult> {
    const update = validateOrderUpdate(input, this.defaults);
    return this.locks.run(update.order_number, () => this.apply(update));
  }

  private async apply(update: OrderUpdate): Promise<OrderUpdateResult> {
    const order = await findOrder(this.client, update.order_number, { operation: `orders.${update.action}.lookup` });
    const result: OrderUpdateResult = {
      order_number: order.increment_id, order_id: order.entity_id, action: update.action, changed: false, state_before: order.state,
    };
    let status = order.status;
    if (update.action === 'comment') {
      await this.comment(order.entity_id, order.increment_id, update, update.status ?? status);
      result.changed = true;
      result.commented = true;
    } else {
      const already = update.action === 'unhold' ? order.state !== 'holded' : order.state === TARGET_STATE[update.action];
      if (!already) {
        await this.transition(order.entity_id, order.increment_id, update.action, order.state, order.status);
        result.changed = true;
        status = undefined;
      }
      if (update.comment !== undefined) {
        const now = status === undefined ? await orderState(this.client, order.entity_id) : { status };
        await this.comment(order.entity_id, order.increment_id, update, update.status ?? now.status);
        result.commented = true;
      }
    }
    const after = await orderState(this.client, order.entity_id).catch(() => ({ state: undefined, status: undefined }));
    if (after.state !== undefined) result.state = after.state;
    if (after.status !== undefined) result.status = after.status;
    return result;
  }

  private async comment(orderId: number, incrementId: string, update: OrderUpdate, status: string | undefined): Promise<void> {
    // Order::addStatusHistory copies the entry's status onto the order: a comment without one would blank
    // the order's status, so the current status travels with every comment.
    const statusHistory: Record<string, unknown> = {
      comment: update.comment ?? '',
      is_customer_notified: update.notify ? 1 : 0,
      is_visible_on_front: update.visible_on_front ? 1 : 0,
    };
    if (status) statusHistory.status = status;
    let answer: unknown;
    try {
      answer = await this.client.request({
        method: 'POST', path: `/orders/${orderId}/comments`, body: { statusHistory }, operation: 'orders.comment',
        entity: { type: 'order', id: orderId },
      });
    } catch (err) {
      throw refusal(err, `add a comment to order ${incrementId}`, undefined, { order_number: incrementId, order_id: orderId });
    }
    if (answer === false) {
      throw new IntegrationError('permanent', `Magento did not add the comment to order ${incrementId}`, {
        target: this.client.settings.name, operation: 'orders.comment', details: { order_number: incrementId, order_id: orderId },
      });
    }
  }

  private async transition(orderId: number, incrementId: string, action: Exclude<OrderAction, 'comment'>, state?: string, status?: string): Promise<void> {
    const details = { order_number: incrementId, order_id: orderId, action, state, status };
    const where = `order ${incrementId} (state "${state ?? 'unknown'}"${status ? `, status "${status}"` : ''})`;
    let answer: unknown;
    try {
      answer = await this.client.request({
        method: 'POST', path: `/orders/${orderId}/${action}`, operation: `orders.${action}`, entity: { type: 'order', id: orderId },
      });
    } catch (err) {
      throw refusal(err, `${action} ${where}`, WHY_NOT[action], details);
    }
    if (answer !== true && answer !== 'true' && answer !== 1) {
      throw new IntegrationError('permanent', `Magento refused to ${action} ${where} (it answered ${JSON.stringify(answer)}): ${WHY_NOT[action]}`, {
        target: this.client.settings.name, operation: `orders.${action}`, details: { ...details, reason: 'transition-refused' },
      });
    }
  }
}

/**
 * Magento's answer in the ERP's terms. A 400 for an impossible move is final (retrying will not change the
 * order's state), so it becomes `permanent`; transient and auth failures keep their class for retry-queue.
 */
function refusal(err: unknown, what: string, whyNot: string | undefined, details: Record<string, unknown>): IntegrationError {
  if (!(err instanceof IntegrationError)) return new IntegrationError('permanent', `Could not ${what}: ${String((err as Error)?.message ?? err)}`, { details });
  const m = err instanceof MagentoError ? err : undefined;
  if (err.errorClass === 'transient' || err.errorClass === 'auth') {
    return new MagentoError(err.errorClass, `Could not ${what}: ${err.message}`, {
      status: err.status, code: err.code, retryAfterMs: err.retryAfterMs, target: err.target, operation: err.operation,
      reason: m?.reason, hint: m?.hint, magentoMessage: m?.magentoMessage, details: { ...(err.details ?? {}), ...details },
    });
  }
  const errorClass = err.errorClass === 'validation' ? 'permanent' : err.errorClass;
  return new MagentoError(errorClass, `Magento refused to ${what}: ${m?.magentoMessage ?? err.message}${whyNot ? ` (${whyNot})` : ''}`, {
    status: err.status, target: err.target, operation: err.operation, magentoMessage: m?.magentoMessage,
    details: { ...(err.details ?? {}), ...details, reason: 'transition-refused' },
  });
}
