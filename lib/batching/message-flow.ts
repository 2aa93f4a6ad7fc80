/**
 * The message handling every push node shares, without Node-RED in it: a message's items go to the
 * pusher, items refused on arrival are answered at once, batch results go out as they settle, and each
 * input message ends (done / done(err) with the items to retry) once all of its items are settled.
 * The node gives it `send`, `fail` and `status` and stays a thin adapter.
 */
import { IntegrationError } from '../errors';
import { TicketSettlement } from './pipeline';
import { PushCounts } from './result';
import { TicketBook, TicketMessage } from './tickets';

export interface Pusher<R extends { counts: PushCounts }> {
  accept(ticket: string, payload: unknown): Promise<R | undefined>;
  flush(): Promise<void>;
  close(): Promise<void>;
  readonly buffered: number;
}

export type Done = (err?: Error) => void;

export interface MessageFlowHooks<M extends TicketMessage> {
  /** Sends a result message on the node's output. */
  send: (msg: Record<string, unknown>) => void;
  /** Ends a message with a typed error (msg.failure + done(err)). */
  fail: (msg: M, err: unknown, done: Done) => void;
  /** Shows progress (totals since deploy, entries waiting, or `sending`). */
  status: (totals: Totals, waiting: number, sending: boolean) => void;
  /** Plural noun for error texts, e.g. "stock updates". */
  noun: string;
  /** Topic of result messages that mix several input messages. */
  topic?: string;
  /** Error texts (from the node's message catalog). */
  texts: { noPayload: string; badPayload: (type: string) => string };
}

export type Totals = Omit<PushCounts, 'total' | 'superseded'>;

export class PushMessageFlow<M extends TicketMessage, R extends { counts: PushCounts }> {
  readonly totals: Totals = { ok: 0, rejected: 0, failed: 0, stale: 0, invalid: 0 };
  private readonly book = new TicketBook<M>();
  private readonly dones = new Map<string, Done>();
  private readonly accepting = new Set<string>();
  private readonly deferred = new Map<string, TicketSettlement<unknown>>();
  private pusher: Pusher<R> | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly hooks: MessageFlowHooks<M>) {}

  /** The callbacks to give the pusher's constructor. */
  pusherHooks() {
    return {
      onResult: (result: R, tickets: string[]) => {
        this.count(result);
        this.hooks.send(this.book.resultMessage(result, tickets, this.hooks.topic));
        this.showStatus();
      },
      onTicketSettled: (settlement: TicketSettlement<unknown>) => {
        if (this.accepting.has(settlement.ticket)) this.deferred.set(settlement.ticket, settlement);
        else this.end(settlement);
      },
      msgidOf: (ticket: string) => this.book.msgidOf(ticket),
    };
  }

  attach(pusher: Pusher<R>): void {
    this.pusher = pusher;
    this.showStatus();
  }

  /** Messages waiting for their items to settle. */
  get openMessages(): number {
    return this.book.size;
  }

  /**
   * Handles one input message. Messages are accepted strictly in arrival order (a `flush` must find the
   * items of every message received before it), while delivery runs in the background.
   */
  async input(msg: M, done: Done, options: { flushAlways: boolean }): Promise<void> {
    const pusher = this.pusher;
    if (!pusher) return this.hooks.fail(msg, new IntegrationError('permanent', 'push node not ready'), done);
    const flush = msg.flush === true || msg.flush === 'true';
    const empty = msg.payload === undefined || msg.payload === null || (flush && msg.payload === '');
    if (empty && !flush) return this.hooks.fail(msg, new IntegrationError('validation', this.hooks.texts.noPayload, { field: 'payload' }), done);
    if (!empty && typeof msg.payload !== 'object') {
      return this.hooks.fail(msg, new IntegrationError('validation', this.hooks.texts.badPayload(typeof msg.payload), { field: 'payload' }), done);
    }
    const step = this.chain.then(async () => {
      if (!empty) await this.accept(pusher, msg, done);
      return flush || options.flushAlways ? this.flushNow(pusher) : undefined;
    });
    this.chain = step.then(() => undefined, () => undefined);
    try {
      const flushing = await step;
      if (flushing) await flushing;
      else this.showStatus();
      if (empty) done();
    } catch (err) {
      this.hooks.fail(msg, err, done);
    }
  }

  private async accept(pusher: Pusher<R>, msg: M, done: Done): Promise<void> {
    const ticket = this.book.add(msg);
    this.dones.set(ticket, done);
    this.accepting.add(ticket);
    let refused: R | undefined;
    try {
      refused = await pusher.accept(ticket, msg.payload);
    } catch (err) {
      this.dones.delete(ticket);
      this.book.settle({ ticket, failed: [] }, this.hooks.noun);
      throw err;
    } finally {
      this.accepting.delete(ticket);
    }
    if (refused) {
      this.count(refused);
      this.hooks.send(this.book.resultMessage(refused, [ticket], this.hooks.topic));
    }
    const early = this.deferred.get(ticket);
    if (early) {
      this.deferred.delete(ticket);
      this.end(early);
    }
  }

  /** Sends what waits and waits for it (node close: nothing accepted is dropped on redeploy). */
  async close(): Promise<void> {
    await this.pusher?.close();
  }

  /** Starts a flush; the returned promise settles when everything sent so far has settled. */
  private flushNow(pusher: Pusher<R>): Promise<void> {
    this.hooks.status(this.totals, pusher.buffered, true);
    return pusher.flush().finally(() => this.showStatus());
  }

  private showStatus(): void {
    this.hooks.status(this.totals, this.pusher?.buffered ?? 0, false);
  }

  private count(result: R): void {
    for (const k of Object.keys(this.totals) as Array<keyof Totals>) this.totals[k] += result.counts[k];
  }

  private end(settlement: TicketSettlement<unknown>): void {
    const done = this.dones.get(settlement.ticket);
    this.dones.delete(settlement.ticket);
    const ended = this.book.settle(settlement, this.hooks.noun);
    if (!ended || !done) return;
    if (ended.error) this.hooks.fail(ended.msg, ended.error, done);
    else done();
  }
}
