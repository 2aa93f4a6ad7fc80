/**
 * Sends a list of items in batches and finds out what happened to each one.
 *
 * Three things make this more than a loop: a batch refused with `Maximum items` is split to the size the
 * store names (and the size is remembered); a batch refused because of some of its items (a validation
 * answer without per-item detail, as MSI gives for an unknown SKU or source) is bisected until the bad items
 * are named while the good ones still land; and a batch that failed as a whole for another reason (network,
 * 5xx, auth) is reported as `failed` with its typed error so the caller can hand exactly those items to
 * retry-queue. Nothing here knows Magento's routes: `send` does the call.
 */
import { IntegrationError } from '../errors';
import { BatchLimit } from './limits';
import { chunk, mapPool } from './chunk';

/** A per-item refusal inside an answer that was otherwise a success (e.g. the price APIs' failure list). */
export interface ItemRejection {
  /** Position of the item in the batch that was sent. */
  index: number;
  reason: string;
  details?: Record<string, unknown>;
  /** The item was not applied for a reason worth retrying (e.g. a bulk operation still open or retriably failed). */
  error?: IntegrationError;
}

/** What `send` may answer besides a plain rejection list: extra calls it made (polls) and facts to report. */
export interface SendOutcome {
  rejections: ItemRejection[];
  extraCalls?: number;
  info?: Record<string, unknown>;
}

export type ItemOutcome = 'ok' | 'rejected' | 'failed';

export interface DeliveredItem<T> {
  item: T;
  outcome: ItemOutcome;
  /** Why the item was rejected (Magento's message) or why its batch failed. */
  reason?: string;
  details?: Record<string, unknown>;
  /** For `failed`: the whole-batch error (typed; its class tells retry-queue what to do). */
  error?: IntegrationError;
}

export interface BatchReport<T> {
  /** 1-based number of the batch within this delivery. */
  batch: number;
  items: DeliveredItem<T>[];
  /** HTTP calls this batch took (1 unless it was split or bisected). */
  calls: number;
  /** The first whole-batch error met, if any. */
  error?: IntegrationError;
  /** Facts `send` reported (e.g. the bulk uuid). */
  info?: Record<string, unknown>;
}

export interface DeliverOptions<T> {
  /** Sends one batch; resolves with per-item rejections (or nothing), rejects when the whole batch failed. */
  send: (batch: T[]) => Promise<ItemRejection[] | SendOutcome | void>;
  limit: BatchLimit;
  /** Batches in flight at once (the client queues beyond its own limit anyway). */
  concurrency?: number;
  /** True when an error means "something in this batch is bad" (default: class `validation`). */
  isItemFault?: (err: IntegrationError) => boolean;
  /** After a batch fails as a whole, later batches are not sent but reported failed with the same error. */
  stopAfterBatchFailure?: boolean;
  onBatch?: (report: BatchReport<T>) => void;
  /** Turns anything thrown into the typed error (default: keeps IntegrationError, wraps the rest as permanent). */
  toError?: (err: unknown) => IntegrationError;
}

const MAX_ITEMS = /Maximum items of type "([^"]*)" is (\d+)/;

/** The store's input limit carried by an error (`MagentoError.inputLimit`, or Magento's message itself). */
export function inputLimitOf(err: unknown): { type?: string; max: number } | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { inputLimit?: { type?: string; max?: unknown }; message?: unknown; details?: Record<string, unknown> };
  if (e.inputLimit && Number.isFinite(Number(e.inputLimit.max))) return { type: e.inputLimit.type, max: Number(e.inputLimit.max) };
  const detail = e.details?.inputLimit as { type?: string; max?: unknown } | undefined;
  if (detail && Number.isFinite(Number(detail.max))) return { type: detail.type, max: Number(detail.max) };
  const m = typeof e.message === 'string' ? MAX_ITEMS.exec(e.message) : null;
  return m ? { type: m[1], max: Number(m[2]) } : undefined;
}

export function defaultToError(err: unknown): IntegrationError {
  if (err instanceof IntegrationError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new IntegrationError('permanent', message, { cause: err });
}

export function isValidationFault(err: IntegrationError): boolean {
  return err.errorClass === 'validation';
}

/** Delivers `items`; resolves with one report per batch, in order, once every batch has settled. */
export async function deliverInBatches<T>(items: readonly T[], options: DeliverOptions<T>): Promise<BatchReport<T>[]> {
  const isItemFault = options.isItemFault ?? isValidationFault;
  const toError = options.toError ?? defaultToError;
  const stopAfter = options.stopAfterBatchFailure ?? true;
  let stopped: IntegrationError | undefined;

  const batches = chunk(items, options.limit.size());

  return mapPool(batches, options.concurrency ?? 1, async (batch, n) => {
    let calls = 0;
    let batchError: IntegrationError | undefined;
    let info: Record<string, unknown> | undefined;

    const failAll = (slice: T[], error: IntegrationError): DeliveredItem<T>[] =>
      slice.map((item) => ({ item, outcome: 'failed' as const, reason: error.message, error }));

    async function attempt(slice: T[]): Promise<DeliveredItem<T>[]> {
      if (batchError) return failAll(slice, batchError);
      if (stopped) {
        batchError = stopped;
        return failAll(slice, stopped);
      }
      const size = options.limit.size();
      // A limit learnt from another batch applies before the call, not after a second refusal.
      if (slice.length > size) return (await sequential(chunk(slice, size), attempt)).flat();
      let rejections: ItemRejection[] = [];
      calls++;
      try {
        const answer = await options.send(slice);
        if (Array.isArray(answer)) rejections = answer;
        else if (answer) {
          rejections = answer.rejections;
          calls += answer.extraCalls ?? 0;
          if (answer.info) info = { ...info, ...answer.info };
        }
      } catch (raw) {
        const err = toError(raw);
        const limit = inputLimitOf(raw);
        if (limit && limit.max >= 1 && slice.length > limit.max) {
          options.limit.lower(limit.max);
          return (await sequential(chunk(slice, limit.max), attempt)).flat();
        }
        if (isItemFault(err)) {
          if (slice.length === 1) {
            return [{ item: slice[0], outcome: 'rejected', reason: err.message, details: err.details }];
          }
          const mid = Math.ceil(slice.length / 2);
          const left = await attempt(slice.slice(0, mid));
          const right = await attempt(slice.slice(mid));
          return [...left, ...right];
        }
        batchError = err;
        if (stopAfter) stopped = stopped ?? err;
        return failAll(slice, err);
      }
      const byIndex = new Map<number, ItemRejection>();
      for (const r of rejections) if (!byIndex.has(r.index)) byIndex.set(r.index, r);
      return slice.map((item, i): DeliveredItem<T> => {
        const r = byIndex.get(i);
        if (!r) return { item, outcome: 'ok' };
        if (r.error) return { item, outcome: 'failed', reason: r.reason, details: r.details, error: r.error };
        return { item, outcome: 'rejected', reason: r.reason, details: r.details };
      });
    }

    const delivered = await attempt(batch);
    const report: BatchReport<T> = { batch: n + 1, items: delivered, calls };
    if (batchError) report.error = batchError;
    if (info) report.info = info;
    options.onBatch?.(report);
    return report;
  });
}

async function sequential<A, R>(parts: A[], fn: (part: A) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const p of parts) out.push(await fn(p));
  return out;
}
