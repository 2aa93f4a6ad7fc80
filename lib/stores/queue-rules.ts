/** Ordering and limits shared by the queue stores. */
import { ValidationError } from '../errors';
import type { QueueEntry, QueueEntryState, QueueListOptions } from './types';
import { QUEUE_ENTRY_STATES } from './types';

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 10_000;

export function isLiveState(state: QueueEntryState): boolean {
  return state === 'pending' || state === 'in-flight';
}

export function listStates(options: QueueListOptions | undefined): QueueEntryState[] {
  const raw = options?.state;
  if (raw === undefined) return [...QUEUE_ENTRY_STATES];
  const states = Array.isArray(raw) ? raw : [raw];
  for (const s of states) {
    if (!(QUEUE_ENTRY_STATES as readonly string[]).includes(s)) throw new ValidationError('state', `must be one of ${QUEUE_ENTRY_STATES.join(', ')} (got ${JSON.stringify(s)})`);
  }
  return states;
}

export function listWindow(options: QueueListOptions | undefined): { limit: number; offset: number } {
  const limit = options?.limit ?? DEFAULT_LIST_LIMIT;
  const offset = options?.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new ValidationError('limit', `must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  if (!Number.isInteger(offset) || offset < 0) throw new ValidationError('offset', 'must be a non-negative integer');
  return { limit, offset };
}

/** Oldest first: the order an operator reads a dead-letter list in. */
export function byFirstFailure(a: QueueEntry, b: QueueEntry): number {
  return a.firstFailedAt - b.firstFailedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** A capacity of live entries: a whole number of 0 or more, or undefined for none. */
export function checkMaxLive(maxLive: number | undefined): number | undefined {
  if (maxLive !== undefined && (!Number.isSafeInteger(maxLive) || maxLive < 0)) {
    throw new ValidationError('maxLive', `must be a whole number of 0 or more (got ${JSON.stringify(maxLive)})`);
  }
  return maxLive;
}

export function checkEntry(entry: QueueEntry): QueueEntry {
  if (!entry || typeof entry.id !== 'string' || entry.id === '') throw new ValidationError('entry.id', 'must be a non-empty string');
  if (!(QUEUE_ENTRY_STATES as readonly string[]).includes(entry.state)) throw new ValidationError('entry.state', `must be one of ${QUEUE_ENTRY_STATES.join(', ')}`);
  if (!Number.isFinite(entry.nextAttemptAt)) throw new ValidationError('entry.nextAttemptAt', 'must be epoch milliseconds');
  return entry;
}
