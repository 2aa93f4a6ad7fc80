/**
 * Re-reads one order by `entity_id` or `increment_id`. A webhook often arrives before the order is
 * readable (the module fires inside the save transaction, or a replica lags), so a 404 is retried a few
 * times after a short delay before it counts as not found.
 */
import { IntegrationError, ValidationError } from '../errors';
import { encodePathSegment } from '../magento/url';
import type { Filter, MagentoClient } from '../magento/types';
import type { MagentoOrder } from './types';

export interface OrderRef {
  entityId?: number;
  incrementId?: string;
}

export interface RereadOptions {
  /** Further attempts after a 404 (0 = none). */
  notFoundRetries: number;
  /** Wait before each further attempt, in ms. */
  notFoundDelayMs: number;
  storeIds?: number[];
  signal?: AbortSignal;
  /** Replaceable in tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Reads `msg.entityId` / `msg.incrementId`; undefined when neither is given, a ValidationError when one is bad. */
export function orderRefOf(msg: { entityId?: unknown; incrementId?: unknown }): OrderRef | undefined {
  if (msg.entityId !== undefined && msg.entityId !== null && msg.entityId !== '') {
    const n = Number(msg.entityId);
    if (!Number.isInteger(n) || n < 1) throw new ValidationError('msg.entityId', `must be a whole number of 1 or more (Magento's order entity_id), got ${JSON.stringify(msg.entityId)}`);
    return { entityId: n };
  }
  if (msg.incrementId !== undefined && msg.incrementId !== null && msg.incrementId !== '') {
    if (typeof msg.incrementId !== 'string' && typeof msg.incrementId !== 'number') {
      throw new ValidationError('msg.incrementId', `must be a string such as "000000123", got ${typeof msg.incrementId}`);
    }
    const s = String(msg.incrementId).trim();
    if (!s || s.length > 50) throw new ValidationError('msg.incrementId', 'must be a non-empty order number of at most 50 characters');
    return { incrementId: s };
  }
  return undefined;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(): IntegrationError {
  return new IntegrationError('transient', 'The order read was stopped (flow redeployed or Node-RED stopping)', { code: 'ABORT_ERR', operation: 'orders.get' });
}

async function fetchOnce(client: MagentoClient, ref: OrderRef, options: RereadOptions): Promise<MagentoOrder | undefined> {
  if (ref.entityId !== undefined) {
    try {
      return await client.request<MagentoOrder>({
        method: 'GET', path: `/orders/${encodePathSegment(String(ref.entityId))}`, operation: 'orders.get',
        entity: { type: 'order', id: ref.entityId }, signal: options.signal,
      });
    } catch (err) {
      if (err instanceof IntegrationError && err.status === 404) return undefined;
      throw err;
    }
  }
  const groups: Filter[][] = [[{ field: 'increment_id', value: ref.incrementId as string, conditionType: 'eq' }]];
  if (options.storeIds?.length) groups.push([{ field: 'store_id', value: options.storeIds, conditionType: 'in' }]);
  const result = await client.search<MagentoOrder>('/orders', { filterGroups: groups, pageSize: 1, currentPage: 1, sortOrders: [{ field: 'entity_id', direction: 'DESC' }] }, { operation: 'orders.get', signal: options.signal });
  return result.items[0];
}

/** The order, after up to `notFoundRetries` further attempts on 404; a `not-found` IntegrationError after that. */
export async function rereadOrder(client: MagentoClient, ref: OrderRef, options: RereadOptions): Promise<{ order: MagentoOrder; attempts: number }> {
  const wait = options.sleep ?? sleep;
  const retries = Math.max(0, Math.floor(options.notFoundRetries));
  for (let attempt = 1; ; attempt++) {
    const order = await fetchOnce(client, ref, options);
    if (order) return { order, attempts: attempt };
    if (attempt > retries) {
      const what = ref.entityId !== undefined ? `entity_id ${ref.entityId}` : `increment_id "${ref.incrementId}"`;
      throw new IntegrationError('not-found', `Order ${what} not found in store "${client.settings.name}" after ${attempt} attempt${attempt > 1 ? 's' : ''}`, {
        status: 404, target: client.settings.name, operation: 'orders.get', details: { ...ref, attempts: attempt },
      });
    }
    await wait(options.notFoundDelayMs, options.signal);
  }
}
