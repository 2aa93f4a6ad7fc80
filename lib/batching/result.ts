/**
 * The result message every push node sends per batch: a status that never says `ok` when an item was not
 * applied, counts, and one line per item.
 */
import { EntryResult, ResultOutcome } from './pipeline';

export type PushStatus = 'ok' | 'partial' | 'failed';

export interface PushCounts {
  total: number;
  ok: number;
  rejected: number;
  failed: number;
  stale: number;
  invalid: number;
  /** Earlier updates replaced by a later one for the same key before sending (not sent, not lost). */
  superseded: number;
}

export interface ResultItemBase {
  /** Position in the input message's payload. */
  index?: number;
  /** `_msgid` of the input message when a batch mixes several. */
  msgid?: string;
  outcome: ResultOutcome;
  reason?: string;
  /** For `invalid`: the field at fault. */
  field?: string;
  superseded?: number;
}

export function emptyCounts(): PushCounts {
  return { total: 0, ok: 0, rejected: 0, failed: 0, stale: 0, invalid: 0, superseded: 0 };
}

/**
 * `ok` only when every item that should change the store did; `failed` when none did; `partial` otherwise.
 * Stale items are a correct refusal, not a failure: they never turn a batch partial on their own.
 */
export function summarize(items: ReadonlyArray<{ outcome: ResultOutcome; superseded?: number }>): { status: PushStatus; counts: PushCounts } {
  const counts = emptyCounts();
  for (const it of items) {
    counts.total++;
    counts[it.outcome]++;
    counts.superseded += it.superseded ?? 0;
  }
  const notApplied = counts.rejected + counts.failed + counts.invalid;
  const status: PushStatus = notApplied === 0 ? 'ok' : counts.ok > 0 ? 'partial' : 'failed';
  return { status, counts };
}

/** The common part of a result line for one entry. */
export function resultLine<T>(r: EntryResult<T>, ticketToMsgid?: (ticket: string) => string | undefined): ResultItemBase {
  const line: ResultItemBase = { index: r.entry.index, outcome: r.outcome };
  const msgid = ticketToMsgid?.(r.entry.ticket);
  if (msgid !== undefined) line.msgid = msgid;
  if (r.reason !== undefined) line.reason = r.reason;
  if (r.superseded) line.superseded = r.superseded;
  return line;
}
