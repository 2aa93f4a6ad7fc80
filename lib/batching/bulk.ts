/**
 * Magento's asynchronous bulk API: one request carries many operations (the body is an array of the
 * normal bodies), Magento answers at once with a `bulk_uuid`, and queue consumers apply the operations
 * later. Whether they were applied is known only from `GET /V1/bulk/{uuid}/detailed-status`, operation by
 * operation — the bulk's own summary is not trusted. When nothing moves before a deadline, the store's
 * consumers are most likely not running (a common production gap: cron `consumers_runner` off).
 */
import { IntegrationError } from '../errors';
import { MagentoClient } from '../magento/types';

/** Magento\Framework\Bulk\OperationInterface statuses. */
export const OPERATION_STATUS = Object.freeze({
  COMPLETE: 1,
  RETRIABLY_FAILED: 2,
  NOT_RETRIABLY_FAILED: 3,
  OPEN: 4,
  REJECTED: 5,
});

export interface BulkRequestItem {
  id: number;
  data_hash?: string;
  status: string;
  error_message?: string;
}

export interface BulkSubmitted {
  bulkUuid: string;
  requestItems: BulkRequestItem[];
  errors: boolean;
}

export interface BulkOperation {
  id: number;
  status: number;
  topic_name?: string;
  result_message?: string | null;
  error_code?: number | null;
  result_serialized_data?: string | null;
}

export interface BulkDetailedStatus {
  operations_list?: BulkOperation[];
  operation_count?: number;
  bulk_id?: string;
  description?: string;
  start_time?: string;
}

/** Sends one bulk request (`/rest/<code>/async/bulk/V1<path>`). */
export async function submitBulk(client: MagentoClient, path: string, bodies: unknown[], operation: string): Promise<BulkSubmitted> {
  const answer = await client.request<{ bulk_uuid?: string; request_items?: BulkRequestItem[]; errors?: boolean }>({
    method: 'POST', path, body: bodies, mode: 'bulk', operation,
  });
  if (!answer || typeof answer.bulk_uuid !== 'string') {
    throw new IntegrationError('permanent', 'the async bulk answer carries no bulk_uuid (is the bulk API enabled on this store?)', { operation });
  }
  return { bulkUuid: answer.bulk_uuid, requestItems: Array.isArray(answer.request_items) ? answer.request_items : [], errors: !!answer.errors };
}

export interface FollowOptions {
  /**
   * Pause before the first poll; doubles after each poll up to maxIntervalMs, so a long bulk costs few
   * calls (1 s → 10 s over 5 minutes: at most 33 polls per bulk).
   */
  intervalMs: number;
  maxIntervalMs?: number;
  /** Give up after this long from the start of following. */
  deadlineMs: number;
  /** Operations the bulk should hold (accepted request items); unknown until listed otherwise. */
  expected?: number;
  operation?: string;
  onPoll?: (status: { polls: number; known: number; open: number }) => void;
  signal?: AbortSignal;
}

export interface FollowResult {
  operations: BulkOperation[];
  /** Every expected operation has a final status. */
  complete: boolean;
  /** The deadline passed with operations still open. */
  timedOut: boolean;
  open: number;
  polls: number;
}

function isFinal(status: number): boolean {
  return status === OPERATION_STATUS.COMPLETE || status === OPERATION_STATUS.RETRIABLY_FAILED
    || status === OPERATION_STATUS.NOT_RETRIABLY_FAILED || status === OPERATION_STATUS.REJECTED;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls detailed-status until every operation is known or the deadline passes. The first poll waits too:
 * Magento's consumers take a bulk from the queue after the request that submitted it has been answered, so
 * a look right away only ever finds it open.
 */
export async function followBulk(client: MagentoClient, bulkUuid: string, options: FollowOptions): Promise<FollowResult> {
  const started = Date.now();
  let interval = Math.max(1, options.intervalMs);
  const maxInterval = Math.max(interval, options.maxIntervalMs ?? interval * 8);
  let polls = 0;
  for (;;) {
    await sleep(Math.max(0, Math.min(interval, options.deadlineMs - (Date.now() - started))), options.signal);
    interval = Math.min(maxInterval, interval * 2);
    const status = await client.request<BulkDetailedStatus>({
      method: 'GET',
      path: `/bulk/${encodeURIComponent(bulkUuid)}/detailed-status`,
      operation: options.operation ?? 'bulk.detailed-status',
      entity: { type: 'bulk', id: bulkUuid },
      signal: options.signal,
    });
    polls++;
    const operations = Array.isArray(status?.operations_list) ? status.operations_list : [];
    const expected = Math.max(options.expected ?? 0, Number(status?.operation_count) || 0, operations.length);
    const known = operations.filter((op) => isFinal(Number(op.status))).length;
    const open = expected - known;
    options.onPoll?.({ polls, known, open });
    if (open <= 0) return { operations, complete: true, timedOut: false, open: 0, polls };
    if (Date.now() - started >= options.deadlineMs) return { operations, complete: false, timedOut: true, open, polls };
  }
}

/**
 * Pairs the operations of a bulk with the request items that created them. Operations are created only
 * for accepted request items, in request order; Magento lists them with ids that either equal the request
 * item ids or ascend in the same order.
 */
export function matchOperations(requestItems: BulkRequestItem[], operations: BulkOperation[]): Map<number, BulkOperation> {
  const accepted = requestItems.filter((r) => r.status !== 'rejected').map((r) => r.id);
  const byRequestId = new Map<number, BulkOperation>();
  const acceptedSet = new Set(accepted);
  const sorted = [...operations].sort((a, b) => Number(a.id) - Number(b.id));
  if (sorted.length && sorted.every((op) => acceptedSet.has(Number(op.id)))) {
    for (const op of sorted) byRequestId.set(Number(op.id), op);
    return byRequestId;
  }
  sorted.forEach((op, rank) => {
    if (rank < accepted.length) byRequestId.set(accepted[rank], op);
  });
  return byRequestId;
}
