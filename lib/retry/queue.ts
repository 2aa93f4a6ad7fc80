/**
 * The retry queue engine, without Node-RED: takes failed messages, decides with the policy, keeps them
 * in a RetryQueueStore, re-emits them when due, and answers the control commands. The node adapter
 * (nodes/retry-queue) wires `events` to its outputs and status.
 *
 * Delivery outcome: a re-emitted entry is `in-flight` for `attemptLeaseMs`. A failure coming back with
 * `msg.retry.id` continues the same entry; an `ack` finishes it early; no news by the end of the lease
 * means it went through (failures come back through the error path or a Catch node) and it is finished.
 * In-flight entries of a process that died are re-armed: at once on start for a store only this process
 * uses (memory, SQLite), after the lease plus a grace period for a shared Redis store. A re-armed entry
 * may repeat a delivery that did succeed before the crash: put an idempotency gate in front of the target.
 *
 * Circuit breaker: while a target's circuit is open its due retries are held (pushed to the end of the open
 * period, then to the end of the half-open probe). The probe's outcome moves them at once: a success (ack,
 * or its lease ending without a failure) closes the circuit and makes them due now; a failure re-opens it
 * and they wait for the new, longer open period. Held entries are tracked in memory like the breaker
 * itself; after a restart they simply come due at the time stored with them.
 */
import { randomUUID } from 'crypto';
import { IntegrationError, ValidationError, type FailureInfo } from '../errors';
import type { AttemptRecord, QueueCounts, QueueEntry, QueueEntryState, RetryQueueStore } from '../stores/types';
import { CircuitBreaker, DEFAULT_BREAKER, type BreakerOptions, type CircuitView } from './breaker';
import { failureOfMessage, type ClassifyOptions } from './classify';
import { checkPolicy, decide, DEFAULT_POLICY, type RetryPolicy } from './policy';
import { persistableMessage, revivedMessage } from './persist';

export const RETRY_COMMANDS = ['list', 'retry', 'discard', 'purge-finished', 'stats', 'resume', 'ack'] as const;
export type RetryCommand = typeof RETRY_COMMANDS[number];

/** Most attempt records kept per entry (the first ones and the latest ones matter; the middle repeats). */
export const MAX_HISTORY = 50;
/** Longest single timer: a shared Redis queue also gets entries from other instances. */
const MAX_TIMER_MS = 30_000;

export interface RetryInfo {
  id: string;
  attempt: number;
  firstFailedAt: string;
  history: AttemptRecord[];
}

export interface RetryAlert {
  type: 'no-progress' | 'paused';
  message: string;
  since: string;
  counts: QueueCounts;
  failure?: FailureInfo;
}

export interface PauseInfo {
  since: number;
  errorClass: string;
  message: string;
  target?: string;
}

export interface RetryQueueEvents {
  emit(message: Record<string, unknown>, entry: QueueEntry): void;
  deadLetter(message: Record<string, unknown>, entry: QueueEntry): void;
  alert(alert: RetryAlert): void;
  /** Something the status shows changed. */
  change(): void;
  /** A background step (timer) failed, e.g. the store is unreachable; it is tried again later. */
  error(err: unknown): void;
}

export interface RetryQueueOptions {
  store: RetryQueueStore;
  events: RetryQueueEvents;
  policy?: RetryPolicy;
  breaker?: BreakerOptions;
  classify?: ClassifyOptions;
  /** Most live (pending + in-flight) entries; a new failure beyond is refused. */
  maxQueueSize?: number;
  attemptLeaseMs?: number;
  /** Shared store (Redis): how long after its lease an entry of another instance counts as orphaned. */
  orphanGraceMs?: number;
  /** Live entries and no delivery, dead letter or operator action for this long → alert (0 = never). */
  noProgressMs?: number;
  /** How long finished entries stay listable. */
  finishedRetentionMs?: number;
  claimBatch?: number;
  /** Unique per process and node: who holds an in-flight entry. */
  owner?: string;
  now?: () => number;
  random?: () => number;
}

export type AcceptResult =
  | { outcome: 'scheduled'; entry: QueueEntry; delayMs: number }
  | { outcome: 'paused'; entry: QueueEntry }
  | { outcome: 'dead'; entry: QueueEntry }
  | { outcome: 'acknowledged'; entry?: QueueEntry };

export interface QueueStats {
  counts: QueueCounts;
  maxQueueSize: number;
  nextAttemptAt?: string;
  paused?: { since: string; errorClass: string; message: string; target?: string };
  circuits: Array<Omit<CircuitView, 'openUntil'> & { openUntil?: string }>;
  lastProgressAt: string;
}

const iso = (t: number) => new Date(t).toISOString();

export class RetryQueue {
  readonly store: RetryQueueStore;
  readonly maxQueueSize: number;
  private readonly events: RetryQueueEvents;
  private readonly policy: RetryPolicy;
  private readonly breaker: CircuitBreaker;
  private readonly classify: ClassifyOptions;
  private readonly leaseMs: number;
  private readonly graceMs: number;
  private readonly noProgressMs: number;
  private readonly finishedRetentionMs: number;
  private readonly batch: number;
  private readonly exclusive: boolean;
  readonly owner: string;
  private readonly now: () => number;
  private readonly random: () => number;
  private dueTimer?: NodeJS.Timeout;
  private sweepTimer?: NodeJS.Timeout;
  private pumping = false;
  private pumpAgain = false;
  private stopped = true;
  private paused?: PauseInfo;
  private lastProgressAt: number;
  private alerted = false;
  private nextDue?: number;
  /** Per target: ids of pending entries this instance held back because the target's circuit was open. */
  private readonly held = new Map<string, Set<string>>();
  /** Per target: the half-open probe in flight and the end of its lease (no failure by then = success). */
  private readonly probes = new Map<string, { id: string; leaseUntil: number }>();
  /** Per target: when its held entries become due, applied by the pump (so no claim runs in between). */
  private readonly retimes = new Map<string, number>();
  /**
   * Per entry id: the tail of its read-modify-writes. The store answers asynchronously (SQLite from the
   * thread pool, Redis over the network), so an ack and a failure of the same message, arriving as two
   * messages, would otherwise both read the entry before either wrote it, and the stale write would win.
   * Never held across a pump: nothing inside one waits for another.
   */
  private readonly entryTurns = new Map<string, Promise<void>>();

  constructor(options: RetryQueueOptions) {
    this.store = options.store;
    this.events = options.events;
    this.policy = checkPolicy(options.policy ?? structuredClone(DEFAULT_POLICY) as RetryPolicy);
    this.breaker = new CircuitBreaker(options.breaker ?? DEFAULT_BREAKER);
    this.classify = options.classify ?? {};
    this.maxQueueSize = options.maxQueueSize ?? 10_000;
    this.leaseMs = options.attemptLeaseMs ?? 60_000;
    this.graceMs = options.orphanGraceMs ?? this.leaseMs;
    this.noProgressMs = options.noProgressMs ?? 15 * 60_000;
    this.finishedRetentionMs = options.finishedRetentionMs ?? 3600_000;
    this.batch = options.claimBatch ?? 50;
    this.exclusive = this.store.kind !== 'redis';
    this.owner = options.owner ?? randomUUID();
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.lastProgressAt = this.now();
  }

  /** Re-arms what a previous run left in flight, then starts the timers. */
  async start(): Promise<void> {
    this.stopped = false;
    this.lastProgressAt = this.now();
    await this.sweep();
    const every = Math.min(Math.max(Math.floor(this.leaseMs / 4), 250), 30_000);
    this.sweepTimer = setInterval(() => { this.sweep().catch((err) => this.events.error(err)); }, every);
    this.sweepTimer.unref?.();
    await this.pump();
  }

  stop(): void {
    this.stopped = true;
    if (this.dueTimer) clearTimeout(this.dueTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.dueTimer = this.sweepTimer = undefined;
  }

  get pause(): PauseInfo | undefined {
    return this.paused;
  }

  get nextAttemptAt(): number | undefined {
    return this.nextDue;
  }

  /** Runs `work` (a read-modify-write of entry `id`) after the ones queued before it for that entry. */
  private withEntry<T>(id: string | undefined, work: () => Promise<T>): Promise<T> {
    if (id === undefined) return work();
    const run = (this.entryTurns.get(id) ?? Promise.resolve()).then(work);
    const tail = run.then(() => undefined, () => undefined);
    this.entryTurns.set(id, tail);
    void tail.then(() => { if (this.entryTurns.get(id) === tail) this.entryTurns.delete(id); });
    return run;
  }

  /** A failed message arrives. Rejects (IntegrationError, nothing stored) when the queue is full. */
  async accept(msg: Record<string, unknown>): Promise<AcceptResult> {
    const now = this.now();
    const retryId = retryIdOf(msg);
    const failure = failureOfMessage(msg, this.classify, new Date(now));
    if (!failure) {
      if (retryId) return { outcome: 'acknowledged', entry: (await this.finish([retryId]))[0] };
      throw new ValidationError('failure', 'the message carries neither msg.failure nor msg.error: wire the retry queue to an error output or a Catch node (or send msg.command)');
    }
    const { entry, decision } = await this.withEntry(retryId, () => this.storeFailure(msg, failure, retryId, now));
    if (decision.action === 'dead') {
      this.progress(now);
      this.events.deadLetter(this.outgoing(entry), entry);
      this.events.change();
      return { outcome: 'dead', entry };
    }
    if (decision.action === 'pause') {
      this.setPause({ since: now, errorClass: failure.errorClass, message: failure.message, target: failure.target }, failure);
      this.events.change();
      return { outcome: 'paused', entry };
    }
    if (this.retimes.size > 0) await this.pump();
    else await this.schedule();
    this.events.change();
    return { outcome: 'scheduled', entry, delayMs: decision.action === 'retry' ? decision.delayMs : 0 };
  }

  /** The failure recorded on its entry (a new one, or the one `retryId` names): the part of `accept` that must not interleave. */
  private async storeFailure(msg: Record<string, unknown>, failure: FailureInfo, retryId: string | undefined, now: number): Promise<{ entry: QueueEntry; decision: ReturnType<typeof decide> }> {
    const existing = retryId ? await this.store.get(retryId) : undefined;
    const action = this.policy.actions[failure.errorClass] ?? 'dead';
    const attempt = existing ? existing.attempt + (action === 'pause' ? 0 : 1) : 1;
    const since = existing ? (existing.since ?? existing.firstFailedAt) : now;
    const probeTarget = retryId ? this.probeTargetOf(retryId) : undefined;
    if (probeTarget) this.probes.delete(probeTarget);
    const circuit = failure.errorClass === 'transient' ? this.breaker.failure(failure.target, now) : {};
    if (circuit.transition === 'reopened' && failure.target && this.held.has(failure.target)) this.retimes.set(failure.target, circuit.openUntil as number);

    const decision = decide(failure, Math.max(attempt, 1), since, now, this.policy, this.random);
    const record: AttemptRecord = { attempt, time: iso(now), errorClass: failure.errorClass, message: failure.message };
    for (const k of ['status', 'code', 'retryAfterMs', 'target', 'operation'] as const) {
      if (failure[k] !== undefined) (record as unknown as Record<string, unknown>)[k] = failure[k];
    }
    const history = [...(existing?.history ?? []), record];
    if (history.length > MAX_HISTORY) history.splice(10, history.length - MAX_HISTORY);
    const entry: QueueEntry = {
      id: existing?.id ?? randomUUID(),
      state: 'pending',
      message: persistableMessage(msg).message,
      attempt,
      firstFailedAt: existing?.firstFailedAt ?? now,
      since,
      updatedAt: now,
      nextAttemptAt: now,
      history,
    };
    const target = failure.target ?? existing?.target;
    if (target) entry.target = target;
    const key = typeof msg.idempotencyKey === 'string' ? msg.idempotencyKey : existing?.idempotencyKey;
    if (key) entry.idempotencyKey = key;

    if (decision.action === 'dead') {
      entry.state = 'dead';
      entry.reason = decision.reason;
      await this.store.put(entry);
      return { entry, decision };
    }
    if (decision.action === 'retry') {
      record.delayMs = decision.delayMs;
      entry.nextAttemptAt = now + decision.delayMs;
    }
    if (!(await this.store.put(entry, existing ? undefined : this.maxQueueSize))) {
      throw new IntegrationError('transient', `retry queue is full (${this.maxQueueSize} messages waiting): message refused, not stored`, {
        operation: 'retry-queue.enqueue', target: this.store.name, details: { maxQueueSize: this.maxQueueSize },
      });
    }
    return { entry, decision };
  }

  private setPause(pause: PauseInfo, failure: FailureInfo): void {
    const already = this.paused !== undefined;
    this.paused = pause;
    if (this.dueTimer) clearTimeout(this.dueTimer);
    if (!already) {
      this.alertNow({ type: 'paused', message: `queue paused: ${failure.errorClass} failure${failure.target ? ` on ${failure.target}` : ''} (${failure.message}); fix the credentials, then send msg.command = "resume"`, since: iso(pause.since), failure });
    }
  }

  private alertNow(alert: Omit<RetryAlert, 'counts'>): void {
    this.store.counts().then((counts) => this.events.alert({ ...alert, counts }), (err) => this.events.error(err));
  }

  private progress(now: number): void {
    this.lastProgressAt = now;
    this.alerted = false;
  }

  /** The stored message as it leaves again, with `msg.retry`. */
  private outgoing(entry: QueueEntry): Record<string, unknown> {
    const message = revivedMessage(entry.message);
    const retry: RetryInfo = { id: entry.id, attempt: entry.attempt, firstFailedAt: iso(entry.firstFailedAt), history: entry.history };
    message.retry = retry;
    // Node-RED's http request node sets msg.retry = 0 on every answer: the id also travels where it does not look.
    message._retry = { id: entry.id };
    if (entry.state === 'dead') message.deadLetter = { id: entry.id, reason: entry.reason, failedAt: iso(entry.updatedAt) };
    return message;
  }

  /** Re-emits what is due, respecting the pause and the circuit breakers. */
  async pump(): Promise<void> {
    if (this.stopped || this.paused) return;
    if (this.pumping) { this.pumpAgain = true; return; }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        let claimed: QueueEntry[];
        do {
          const now = this.now();
          await this.settleProbes(now);
          for (const [target, at] of [...this.retimes]) {
            this.retimes.delete(target);
            await this.retimeHeld(target, at);
          }
          claimed = await this.store.claimDue(now, this.batch, this.owner, this.leaseMs);
          for (const entry of claimed) {
            const probe = entry.target !== undefined && this.breaker.state(entry.target, now) === 'half-open';
            const gate = this.stopped || this.paused ? { allowed: false as const, retryAt: now } : this.breaker.allow(entry.target, now);
            if (!gate.allowed) {
              entry.state = 'pending';
              entry.nextAttemptAt = gate.retryAt;
              delete entry.owner;
              delete entry.leaseUntil;
              await this.store.put(entry);
              if (entry.target && gate.retryAt > now) this.hold(entry.target, entry.id);
              continue;
            }
            if (entry.target) {
              this.held.get(entry.target)?.delete(entry.id);
              if (probe) this.probes.set(entry.target, { id: entry.id, leaseUntil: entry.leaseUntil ?? now + this.leaseMs });
            }
            this.events.emit(this.outgoing(entry), entry);
          }
        } while (claimed.length === this.batch && !this.stopped && !this.paused);
      } while (this.pumpAgain && !this.stopped && !this.paused);
    } catch (err) {
      this.events.error(err);
    } finally {
      this.pumping = false;
    }
    await this.schedule();
    this.events.change();
  }

  private async schedule(): Promise<void> {
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimer = undefined;
    if (this.stopped) return;
    try {
      this.nextDue = await this.store.nextDueAt();
    } catch (err) {
      this.events.error(err);
      this.nextDue = undefined;
    }
    if (this.paused || this.stopped) return;
    // A probe's lease end is its success: wake then, so the retries it holds go at once.
    let wakeAt = this.nextDue;
    for (const probe of this.probes.values()) wakeAt = wakeAt === undefined ? probe.leaseUntil : Math.min(wakeAt, probe.leaseUntil);
    const wait = wakeAt === undefined ? (this.exclusive ? undefined : MAX_TIMER_MS) : Math.min(Math.max(wakeAt - this.now(), 0), MAX_TIMER_MS);
    if (wait === undefined) return;
    this.dueTimer = setTimeout(() => { this.dueTimer = undefined; void this.pump(); }, wait);
    this.dueTimer.unref?.();
  }

  /** Finishes in-flight entries whose lease ran out, re-arms orphans, trims finished ones, checks progress. */
  async sweep(): Promise<void> {
    const now = this.now();
    let rearmed = 0;
    for (const listed of await this.store.list({ state: 'in-flight', limit: 1000 })) {
      const rearm = await this.withEntry(listed.id, async () => {
        // Read again in its turn: an ack or a failure may have settled it since the list.
        const entry = await this.store.get(listed.id);
        if (!entry || entry.state !== 'in-flight') return false;
        const lease = entry.leaseUntil ?? 0;
        if (entry.owner === this.owner) {
          if (lease <= now) await this.finishEntry(entry, now);
          return false;
        }
        if (!this.exclusive && lease + this.graceMs > now) return false;
        entry.state = 'pending';
        entry.nextAttemptAt = now;
        entry.updatedAt = now;
        delete entry.owner;
        delete entry.leaseUntil;
        entry.history = [...entry.history, { attempt: entry.attempt, time: iso(now), errorClass: 'transient', message: 'interrupted: the instance that re-emitted it stopped before the outcome was known' }].slice(-MAX_HISTORY);
        await this.store.put(entry);
        return true;
      });
      if (rearm) rearmed++;
    }
    if (this.finishedRetentionMs > 0) {
      for (const entry of await this.store.list({ state: 'finished', limit: 1000 })) {
        if (entry.updatedAt + this.finishedRetentionMs <= now) await this.store.remove(entry.id);
      }
    }
    if (rearmed > 0) await this.pump();
    if (this.noProgressMs > 0 && !this.alerted && now - this.lastProgressAt >= this.noProgressMs) {
      const counts = await this.store.counts();
      if (counts.pending + counts.inFlight > 0) {
        this.alerted = true;
        this.events.alert({
          type: 'no-progress',
          message: `no message delivered or settled for ${Math.round((now - this.lastProgressAt) / 1000)} s while ${counts.pending + counts.inFlight} wait${this.paused ? ' (queue paused)' : ''}`,
          since: iso(this.lastProgressAt),
          counts,
        });
      } else {
        this.lastProgressAt = now;
      }
    }
  }

  private async finishEntry(entry: QueueEntry, now: number): Promise<QueueEntry> {
    entry.state = 'finished';
    entry.updatedAt = now;
    delete entry.owner;
    delete entry.leaseUntil;
    await this.store.put(entry);
    if (entry.target) {
      if (this.probes.get(entry.target)?.id === entry.id) this.probes.delete(entry.target);
      const wasOpen = this.breaker.success(entry.target);
      if (wasOpen || this.held.has(entry.target)) {
        // The circuit closed: what it held back for this target is due now (later backoff times are untouched).
        this.retimes.set(entry.target, now);
        void this.pump();
      }
    }
    this.progress(now);
    this.events.change();
    return entry;
  }

  private hold(target: string, id: string): void {
    let ids = this.held.get(target);
    if (!ids) this.held.set(target, ids = new Set());
    ids.add(id);
  }

  private probeTargetOf(id: string): string | undefined {
    for (const [target, probe] of this.probes) if (probe.id === id) return target;
    return undefined;
  }

  /**
   * Moves the entries held for `target` to `at`: earlier when the circuit closed (`at` = now), to the end of
   * the new open period when a probe failed. Only entries still pending and held are moved; an entry was held
   * only once it was due, so its own backoff time is never later than now. Runs inside the pump only.
   */
  private async retimeHeld(target: string, at: number): Promise<void> {
    const ids = this.held.get(target);
    if (!ids) return;
    const closing = at <= this.now();
    if (closing) this.held.delete(target);
    for (const id of [...ids]) {
      await this.withEntry(id, async () => {
        const entry = await this.store.get(id);
        if (!entry || entry.state !== 'pending') { ids.delete(id); return; }
        if (closing ? entry.nextAttemptAt <= at : entry.nextAttemptAt >= at) return;
        entry.nextAttemptAt = at;
        await this.store.put(entry);
      });
    }
    if (!closing && ids.size === 0) this.held.delete(target);
  }

  /** A probe whose lease ended with no failure coming back went through: finish it, which closes its circuit. */
  private async settleProbes(now: number): Promise<void> {
    for (const [target, probe] of [...this.probes]) {
      if (probe.leaseUntil > now) continue;
      this.probes.delete(target);
      await this.withEntry(probe.id, async () => {
        const entry = await this.store.get(probe.id);
        if (entry && entry.state === 'in-flight' && entry.owner === this.owner && (entry.leaseUntil ?? 0) <= now) await this.finishEntry(entry, now);
      });
    }
  }

  private async finish(ids: string[]): Promise<QueueEntry[]> {
    const out: QueueEntry[] = [];
    for (const id of ids) {
      await this.withEntry(id, async () => {
        const entry = await this.store.get(id);
        if (entry && entry.state === 'in-flight') out.push(await this.finishEntry(entry, this.now()));
      });
    }
    return out;
  }

  async stats(): Promise<QueueStats> {
    const now = this.now();
    const stats: QueueStats = {
      counts: await this.store.counts(),
      maxQueueSize: this.maxQueueSize,
      circuits: this.breaker.views(now).map((c) => ({ ...c, openUntil: c.openUntil === undefined ? undefined : iso(c.openUntil) })),
      lastProgressAt: iso(this.lastProgressAt),
    };
    const next = await this.store.nextDueAt();
    if (next !== undefined) stats.nextAttemptAt = iso(next);
    if (this.paused) stats.paused = { ...this.paused, since: iso(this.paused.since) };
    return stats;
  }

  /** Control by message. `args` is `msg.payload` (ids, state, limit …). */
  async command(command: unknown, args: unknown): Promise<Record<string, unknown>> {
    if (typeof command !== 'string' || !(RETRY_COMMANDS as readonly string[]).includes(command)) {
      throw new ValidationError('command', `must be one of ${RETRY_COMMANDS.join(', ')} (got ${JSON.stringify(command)})`);
    }
    const a = (args && typeof args === 'object' && !Array.isArray(args) ? args : {}) as Record<string, unknown>;
    const now = this.now();
    switch (command as RetryCommand) {
      case 'list': {
        const entries = await this.store.list({
          state: (a.state as QueueEntryState | QueueEntryState[] | undefined) ?? 'dead',
          limit: a.limit === undefined ? undefined : Number(a.limit),
          offset: a.offset === undefined ? undefined : Number(a.offset),
        });
        return { command, count: entries.length, entries };
      }
      case 'stats':
        return { command, ...(await this.stats()) };
      case 'resume': {
        const was = this.paused;
        this.paused = undefined;
        this.progress(now);
        void this.pump();
        return { command, resumed: was !== undefined };
      }
      case 'purge-finished':
        return { command, removed: await this.store.removeByState('finished') };
      case 'ack':
        return { command, finished: (await this.finish(idsOf(args, false))).map((e) => e.id) };
      case 'retry':
      case 'discard': {
        const all = wantsAll(args);
        const ids = all ? (await this.store.list({ state: 'dead', limit: 10_000 })).map((e) => e.id) : idsOf(args, true);
        const done: string[] = [];
        const missing: string[] = [];
        const refused: string[] = [];
        for (const id of ids) {
          const outcome = await this.withEntry(id, async () => {
            const entry = await this.store.get(id);
            if (!entry) return missing;
            if (command === 'discard') {
              await this.store.remove(id);
              return done;
            }
            if (entry.state === 'in-flight') return refused;
            if (entry.state !== 'pending') {
              // A dead letter coming back to life takes a place in the queue like a new failure does.
              const counts = await this.store.counts();
              if (counts.pending + counts.inFlight >= this.maxQueueSize) return refused;
            }
            // "Retry selected lines": a fresh budget, the history kept.
            entry.state = 'pending';
            entry.attempt = 0;
            entry.since = now;
            entry.nextAttemptAt = now;
            entry.updatedAt = now;
            delete entry.reason;
            await this.store.put(entry);
            return done;
          });
          outcome.push(id);
        }
        if (done.length) this.progress(now);
        if (command === 'retry') void this.pump();
        this.events.change();
        const key = command === 'retry' ? 'retried' : 'discarded';
        return { command, [key]: done, missing, refused };
      }
    }
  }
}

/** The entry a message came from: `msg._retry.id` (survives an http request node), else `msg.retry.id`. */
export function retryIdOf(msg: Record<string, unknown>): string | undefined {
  for (const holder of [msg._retry, msg.retry]) {
    if (holder && typeof holder === 'object' && typeof (holder as { id?: unknown }).id === 'string' && (holder as { id: string }).id) return (holder as { id: string }).id;
  }
  return undefined;
}

function wantsAll(args: unknown): boolean {
  if (args === 'all') return true;
  return !!args && typeof args === 'object' && (args as Record<string, unknown>).all === true;
}

/** Ids from `msg.payload`: "id", ["id", …], {id}, {ids: […]}. */
function idsOf(args: unknown, required: boolean): string[] {
  let ids: unknown;
  if (typeof args === 'string' || Array.isArray(args)) ids = args;
  else if (args && typeof args === 'object') ids = (args as Record<string, unknown>).ids ?? (args as Record<string, unknown>).id;
  const list = typeof ids === 'string' ? [ids] : Array.isArray(ids) ? ids : [];
  if (list.some((id) => typeof id !== 'string' || id === '')) throw new ValidationError('payload.ids', 'must be strings (entry ids from the list command)');
  if (required && list.length === 0) throw new ValidationError('payload', 'name the entries: an id, a list of ids ({ids: [...]}) or "all" (every dead letter)');
  return list as string[];
}
