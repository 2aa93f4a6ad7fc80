/**
 * One polling (or backfill) run of the order reader: pages streamed from a durable cursor, each order
 * handed on, the cursor moved once a page's orders were handed on, and back-pressure: the next page is
 * fetched only when the flow has room for it. Knows nothing of Node-RED: the adapter hands each order on
 * (`emit`) and feeds take-overs into the `Handover`.
 */
import { IntegrationError } from '../errors';
import type { MagentoClient } from '../magento/types';
import { compareCursor, CursorStore, OrderCursor, StoredCursor, withOverlap } from './cursor';
import type { Handover } from './handover';
import { OrderFilters, OrderPage, readOrderPages } from './reader';
import type { EnrichOptions, MagentoOrder, OrderEnrichment } from './types';

export interface OrderRunOptions extends OrderFilters {
  pageSize: number;
  /** Orders sent and not yet taken over, at most (0 or absent: two pages). */
  maxInFlight?: number;
  /** A wait with no order taken over for this long gives up on the orders still out and reads on. */
  handoverTimeoutMs: number;
  /** A poll starts this far before the cursor, for orders committed late with an earlier updated_at. */
  overlapSeconds: number;
  /** A backfill from this Magento date: the cursor is moved back there first. Absent: a poll. */
  since?: string;
  enrich?: EnrichOptions;
  signal: AbortSignal;
}

/** Where an order stands in its run. */
export interface OrderPlace {
  page: number;
  pages: number;
  backfill: boolean;
}

export interface OrderRunEvents {
  /** Hands one order on (and has the handover track it, when it tracks). */
  emit(order: MagentoOrder, enrichment: OrderEnrichment | undefined, place: OrderPlace): void;
  /** A backfill asked for orders after the cursor: the orders between are skipped by the cursor no more. */
  sinceAhead?(since: string, cursor: OrderCursor): void;
  /** The run starts reading from `start` (undefined: from the first order). */
  started?(start: OrderCursor | undefined): void;
  /** A page's orders were handed on and the cursor saved (`orders`: so far in this run). */
  paged?(page: OrderPage, orders: number, cursor: OrderCursor | undefined): void;
  /** The next page waits for the flow: `inFlight` orders not taken over yet. */
  waiting?(page: OrderPage, inFlight: number, cursor: OrderCursor | undefined): void;
  /** The flow took nothing over for the take-over timeout: `abandoned` orders given up on. */
  stalled?(abandoned: number, seconds: number): void;
  /** The run failed at page `page` (reading the cursor counts as page 1); `cursor` is where the cursor stands. Called before the error is thrown. */
  failed?(page: number, cursor: OrderCursor | undefined): void;
}

export interface OrderRunSummary {
  orders: number;
  /** Orders given up on after the take-over timeout (sent; their take-over unconfirmed). */
  unconfirmed: number;
  pages: number;
  expectedPages: number;
  backfill: boolean;
  startedAt: string;
  finishedAt: string;
  cursor: OrderCursor | undefined;
}

/**
 * True when a read started at `startedMs` re-read the overlap late enough to see every order up to `cursor`:
 * such an order was stamped at most one second (`updated_at` is truncated to the second) after the cursor's
 * order, which was stamped before the cursor was saved, and commits within the overlap of its stamp.
 */
function overlapSettledBy(cursor: StoredCursor, startedMs: number, overlapSeconds: number): boolean {
  const savedMs = Date.parse(cursor.savedAt);
  return overlapSeconds > 0 && Number.isFinite(savedMs) && startedMs >= savedMs + (overlapSeconds + 1) * 1000;
}

/**
 * Runs one read. `handover` is the take-over tracker the adapter feeds (undefined when nothing reports
 * take-overs: then an order counts as taken once emitted and each page only yields to the event loop).
 * The cursor never moves back (the overlap re-reads orders before it), except on a backfill.
 */
export async function runOrderRead(
  client: MagentoClient,
  cursors: CursorStore,
  handover: Handover<unknown> | undefined,
  options: OrderRunOptions,
  events: OrderRunEvents,
): Promise<OrderRunSummary> {
  const { pageSize, since, signal } = options;
  const backfill = since !== undefined;
  const startedMs = Date.now();
  const startedAt = new Date(startedMs).toISOString();
  const limit = options.maxInFlight && options.maxInFlight > 0 ? options.maxInFlight : 2 * pageSize;
  let saved: StoredCursor | undefined;
  /** The cursor as the run found it (a poll's overlap is settled only while it stays unchanged). */
  let loaded: StoredCursor | undefined;
  let unconfirmed = 0;
  let orders = 0;
  let pagesRead = 0;
  let pages = 0;
  /** Waits until at most `room` orders are in flight (or the flow stalls past the timeout). */
  const makeRoom = async (room: number): Promise<void> => {
    if (!handover || handover.inFlight <= Math.max(0, room)) return;
    const wait = await handover.drain(room, options.handoverTimeoutMs, signal);
    if (wait.timedOut) {
      unconfirmed += wait.abandoned;
      events.stalled?.(wait.abandoned, options.handoverTimeoutMs / 1000);
    }
  };
  try {
    saved = await cursors.load();
    let start: OrderCursor | undefined;
    if (backfill) {
      if (saved && since! > saved.updatedAt) events.sinceAhead?.(since!, saved);
      start = { updatedAt: since!, entityId: 0 };
      // Moved first, so a backfill cut short by a failure or restart resumes with the next poll.
      saved = await cursors.save(start);
    } else if (saved) {
      // Once a read started an overlap after the cursor was saved has re-read the overlap, nothing can still
      // show up before the cursor: start at the cursor itself (a quiet shop is not re-read at every poll).
      start = saved.overlapReadAt !== undefined ? { updatedAt: saved.updatedAt, entityId: saved.entityId } : withOverlap(saved, options.overlapSeconds);
    }
    loaded = saved;
    events.started?.(start);
    const reader = readOrderPages(client, start, {
      pageSize, statuses: options.statuses, storeIds: options.storeIds, createdFrom: options.createdFrom, enrich: options.enrich, signal,
    });
    for await (const page of reader) {
      pagesRead = page.page;
      pages = page.pages;
      const place: OrderPlace = { page: page.page, pages: page.pages, backfill };
      for (const order of page.orders) {
        if (handover && handover.inFlight >= limit) await makeRoom(limit - 1);
        events.emit(order, page.enrichment?.get(Number(order.entity_id)), place);
        orders++;
      }
      if (backfill || !saved || compareCursor(page.cursor, saved) > 0) saved = await cursors.save(page.cursor);
      events.paged?.(page, orders, saved);
      if (handover) {
        // Room for a whole page before the next is fetched (with the default limit: the page before taken).
        if (handover.inFlight > Math.max(0, limit - pageSize)) events.waiting?.(page, handover.inFlight, saved);
        await makeRoom(limit - pageSize);
      } else {
        // Let the orders of this page be delivered before the next is fetched.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    // The summary means every order of the run was taken over (or given up on after the timeout).
    await makeRoom(0);
    if (signal.aborted) throw new IntegrationError('transient', 'The order read was stopped (flow redeployed or Node-RED stopping)', { code: 'ABORT_ERR', operation: 'orders.list' });
    if (!backfill && saved && saved === loaded && saved.overlapReadAt === undefined && overlapSettledBy(saved, startedMs, options.overlapSeconds)) {
      saved = await cursors.markOverlapRead(saved, new Date(startedMs));
    }
  } catch (err) {
    events.failed?.(pagesRead + 1, saved);
    throw err;
  }
  return {
    orders, unconfirmed, pages: pagesRead, expectedPages: pages, backfill, startedAt, finishedAt: new Date().toISOString(),
    cursor: saved ? { updatedAt: saved.updatedAt, entityId: saved.entityId } : undefined,
  };
}
