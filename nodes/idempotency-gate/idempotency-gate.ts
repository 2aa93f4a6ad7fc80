/**
 * `magento-idempotency-gate`: lets the first message with a key through (output 1), holds back repeats
 * (output 2) and refuses messages without a key (output 3). The key is done only when the work behind
 * succeeded: a commit message comes back; a failure releases it for a retry.
 *
 * How a message carries its key to the commit point: the gate sets `msg.idempotencyKey` and
 * `msg._gate = {id, key, token}`. Any message holding that `_gate` (or `idempotencyKey`) sent back to
 * the gate with `msg.commit = true` / `msg.gate = {action: 'commit', result}` commits, with
 * `msg.release = true` releases, with `msg.park = true` parks the key for the retry queue (kept in
 * flight for the message the queue sends again); with "commit on return" set, a returning message commits
 * by itself (Complete node) or releases when it carries `msg.failure` / `msg.error` (Catch node).
 *
 * With "complete when settled", a message that passed is completed (its done() called) only when its key is
 * committed or released, or its lease runs out: the node that sent it (read-orders, webhook-in) counts it as
 * taken over only then, so back-pressure spans the work behind the gate, not just the gate.
 */
import { IntegrationError, ValidationError } from '../../lib/errors';
import { compileKeySource, type KeySource } from '../../lib/stores/gate-key';
import { storeNameFrom, storeOptionsFrom } from '../../lib/stores/config';
import { openIdempotencyStore, type IdempotencyStore, type JsonValue, type GateRecord, type StoreOptions } from '../../lib/stores';
import { retryIdOf } from '../../lib/retry/queue';
import { toIntegrationError, type NodeMessage } from '../shared/failure';

interface GateConfig {
  id: string;
  name?: string;
  keyFrom?: 'property' | 'header' | 'template';
  keyProperty?: string;
  keyHeader?: string;
  keyTemplate?: string;
  inFlight?: 'duplicate' | 'wait';
  waitSeconds?: string | number;
  leaseSeconds?: string | number;
  ttl?: string | number;
  ttlUnit?: 'hours' | 'days';
  commitOnReturn?: boolean;
  freeOrphans?: boolean;
  /** When a message that passed counts as completed (done()): at once, or once its key is committed or released. */
  completeWhen?: 'passed' | 'settled';
  resultProperty?: string;
  keySpace?: string;
  storeKind?: string;
  redisUrl?: string;
}

/** A passed message whose completion waits for its key to be committed or released. */
interface Unsettled {
  token: string;
  done: () => void;
  timer: NodeJS.Timeout;
  /** The gate node that passed it (its close completes it). */
  owner: string;
}

/**
 * Passed messages not completed yet ("complete when settled"), by key space, then key: one holder per key at a
 * time. Shared by the gate nodes of this process on one key space (the same SQLite file, the same Redis key
 * space), so the commit or release coming back through another of them completes the message too. (Memory stores
 * are the node's own.)
 */
const unsettledBySpace = new Map<string, Map<string, Unsettled>>();

function keySpaceOf(options: StoreOptions, nodeId: string): string {
  if (options.kind === 'memory') return `memory:${nodeId}`;
  return `${options.kind}:${options.kind === 'redis' ? `${options.redisUrl} ${options.keyPrefix ?? ''}` : options.directory}:${options.name}`;
}

interface GateMark {
  id: string;
  key: string;
  token: string;
  attempt: number;
}

const MAX_RESULT_BYTES = 16 * 1024;

function positive(value: unknown, field: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ValidationError(field, `must be a positive number (got ${JSON.stringify(value)})`);
  return n;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export = function (RED: any) {
  function IdempotencyGateNode(this: any, config: GateConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    let store: IdempotencyStore | undefined;
    let keyOf: ((msg: Record<string, unknown>) => string) | undefined;
    let configError: IntegrationError | undefined;
    let leaseMs = 300_000;
    let ttlMs = 24 * 3600_000;
    let waitMs = 0;
    let space = `none:${node.id}`;
    const completeWhenSettled = config.completeWhen === 'settled';
    const counts = { passed: 0, duplicates: 0 };
    try {
      const source: KeySource = config.keyFrom === 'header' ? { from: 'header', header: config.keyHeader ?? '' }
        : config.keyFrom === 'template' ? { from: 'template', template: config.keyTemplate ?? '' }
          : { from: 'property', property: config.keyProperty || 'idempotencyKey' };
      keyOf = compileKeySource(source);
      leaseMs = positive(config.leaseSeconds, 'leaseSeconds', 300) * 1000;
      ttlMs = positive(config.ttl, 'ttl', 24) * (config.ttlUnit === 'days' ? 86_400_000 : 3_600_000);
      waitMs = config.inFlight === 'wait' ? positive(config.waitSeconds, 'waitSeconds', leaseMs / 1000) * 1000 : 0;
      const options = storeOptionsFrom(config, storeNameFrom('gate', config.keySpace, node.id), RED.settings?.userDir);
      store = openIdempotencyStore(options);
      space = keySpaceOf(options, node.id);
    } catch (err) {
      configError = toIntegrationError(err);
      node.error(RED._('magento-idempotency-gate.errors.config', { reason: configError.message }));
      node.status({ fill: 'red', shape: 'ring', text: 'magento-idempotency-gate.status.config' });
    }

    // Keys still in flight from before this process started were held by messages that died with the old
    // process (Node-RED stopped or crashed under them) - if the flow releases keys before parking messages
    // elsewhere, which is why it is a choice. Freed before the first message is checked, so their retries pass
    // now instead of after the lease, and each reported on output 2 (status "orphaned") once the flows have
    // started, so the flow can fetch that work again. Only for stores no other process uses.
    let orphans: GateRecord[] = [];
    const orphansFreed: Promise<void> = config.freeOrphans === true && store?.endLeasesTakenBefore
      ? store.endLeasesTakenBefore(Math.floor(performance.timeOrigin)).then((records) => {
        orphans = records;
        if (records.length > 0) node.log(RED._('magento-idempotency-gate.info.orphans', { count: records.length }));
      }, (err: Error) => node.warn(RED._('magento-idempotency-gate.errors.store', { reason: err.message })))
      : Promise.resolve();
    const reportOrphans = (): void => {
      void orphansFreed.then(() => {
        for (const record of orphans.splice(0)) {
          node.send([null, { topic: 'orphaned', idempotencyKey: record.key, gate: described(record, 'orphaned') }, null]);
        }
      });
    };
    RED.events.once('flows:started', reportOrphans);

    let statusTimer: NodeJS.Timeout | undefined;
    function showStatus(): void {
      if (statusTimer || !store) return;
      // At most once a second: a burst of messages should not become a burst of count queries.
      statusTimer = setTimeout(async () => {
        statusTimer = undefined;
        try {
          const c = await store!.counts();
          node.status({ fill: c.inFlight > 0 ? 'blue' : 'green', shape: 'dot', text: RED._('magento-idempotency-gate.status.counts', { passed: counts.passed, duplicates: counts.duplicates, inFlight: c.inFlight }) });
        } catch (err) {
          node.status({ fill: 'red', shape: 'ring', text: RED._('magento-idempotency-gate.status.storeDown') });
        }
      }, 1000);
      statusTimer.unref?.();
    }

    /** This key space's passed messages not completed yet, whichever gate node passed them. */
    function unsettled(): Map<string, Unsettled> {
      let held = unsettledBySpace.get(space);
      if (!held) unsettledBySpace.set(space, (held = new Map()));
      return held;
    }

    /** Completes the message holding `key` (only the holder of `token`, when given: a stale commit leaves the new holder waiting). */
    function settle(key: string, token?: string): void {
      const held = unsettled().get(key);
      if (!held || (token !== undefined && held.token !== token)) return;
      unsettled().delete(key);
      clearTimeout(held.timer);
      held.done();
    }

    function holdUntilSettled(key: string, token: string, done: () => void): void {
      settle(key); // a holder this one took the key from (a retry taking back its lost attempt's key) is finished
      const timer = setTimeout(() => {
        if (unsettled().get(key)?.token !== token) return;
        unsettled().delete(key);
        node.warn(RED._('magento-idempotency-gate.warn.unsettled', { key, leaseSeconds: leaseMs / 1000 }));
        done();
      }, leaseMs);
      timer.unref?.();
      unsettled().set(key, { token, done, timer, owner: node.id });
    }

    function mark(msg: NodeMessage): GateMark | undefined {
      const g = msg._gate as GateMark | undefined;
      return g && typeof g === 'object' && g.id === node.id && typeof g.key === 'string' ? g : undefined;
    }

    /** The key of a commit/release/forget message: its `_gate` mark, else `msg.idempotencyKey`, else the configured source. */
    function keyForControl(msg: NodeMessage): string {
      const g = mark(msg);
      if (g) return g.key;
      const gate = msg.gate as { key?: unknown } | undefined;
      if (gate && typeof gate.key === 'string' && gate.key) return gate.key;
      if (typeof msg.idempotencyKey === 'string' && msg.idempotencyKey) return msg.idempotencyKey;
      const p = msg.payload as { key?: unknown } | undefined;
      if (msg.command === 'forget' && p && typeof p === 'object' && typeof p.key === 'string' && p.key) return p.key;
      if (msg.command === 'forget' && typeof msg.payload === 'string' && msg.payload) return msg.payload;
      return keyOf!(msg);
    }

    function resultOf(msg: NodeMessage): JsonValue | undefined {
      const gate = msg.gate as { result?: unknown } | undefined;
      let result: unknown = gate && typeof gate === 'object' && 'result' in gate ? gate.result : undefined;
      if (result === undefined && config.resultProperty) result = RED.util.getMessageProperty(msg, config.resultProperty);
      if (result === undefined) return undefined;
      const text = JSON.stringify(result);
      if (text === undefined) return undefined;
      if (Buffer.byteLength(text) > MAX_RESULT_BYTES) throw new ValidationError(config.resultProperty ? `msg.${config.resultProperty}` : 'msg.gate.result', `is ${Buffer.byteLength(text)} bytes as JSON; keep the stored result small (at most ${MAX_RESULT_BYTES}), e.g. the ERP order id`);
      return JSON.parse(text) as JsonValue;
    }

    function described(record: GateRecord, status: string): Record<string, unknown> {
      const out: Record<string, unknown> = { status, key: record.key, attempts: record.attempts, firstSeenAt: new Date(record.createdAt).toISOString() };
      if (record.result !== undefined) out.result = record.result;
      if (record.state === 'done') out.committedAt = new Date(record.updatedAt).toISOString();
      if (record.leaseUntil !== undefined && record.state === 'in-flight') out.leaseUntil = new Date(record.leaseUntil).toISOString();
      return out;
    }

    function toErrorOutput(msg: NodeMessage, err: unknown, send: (m: unknown) => void, done: (e?: Error) => void): void {
      const typed = toIntegrationError(err);
      msg.failure = typed.toJSON();
      send([null, null, msg]);
      done();
    }

    async function handle(msg: NodeMessage, send: (m: unknown) => void, done: (e?: Error) => void): Promise<void> {
      if (configError) return toErrorOutput(msg, configError, send, done);
      await orphansFreed;
      const gate = (msg.gate && typeof msg.gate === 'object' ? msg.gate : {}) as { action?: unknown };
      const returning = config.commitOnReturn === true && mark(msg) !== undefined;
      const failed = msg.failure !== undefined || (msg.error !== undefined && msg.error !== null);

      if (msg.command !== undefined) {
        if (msg.command === 'forget') {
          const key = keyForControl(msg);
          const forgotten = await store!.forget(key);
          settle(key);
          msg.gate = { command: 'forget', key, forgotten };
          send([null, msg, null]);
          showStatus();
          return done();
        }
        if (msg.command === 'stats') {
          msg.gate = { command: 'stats', ...counts, ...(await store!.counts()) };
          send([null, msg, null]);
          return done();
        }
        throw new ValidationError('command', `must be forget or stats (got ${JSON.stringify(msg.command)})`);
      }

      // Parking is asked for explicitly; a returning failure ("commit on return") without it releases.
      const park = gate.action === 'park' || (msg.park === true && msg.release !== true && gate.action === undefined);
      if (!park && (msg.release === true || gate.action === 'release' || (returning && failed))) {
        const g = mark(msg);
        const key = keyForControl(msg);
        const outcome = await store!.release(key, g?.token);
        if (outcome === 'stale') node.warn(RED._('magento-idempotency-gate.warn.staleRelease', { key: g?.key }));
        settle(key, g?.token);
        showStatus();
        return done();
      }
      if (park) {
        // The work failed and waits in the retry queue: the key stays taken for its retry (see IdempotencyStore.park).
        const g = mark(msg);
        const key = keyForControl(msg);
        const parkMs = positive((gate as { leaseSeconds?: unknown }).leaseSeconds, 'gate.leaseSeconds', leaseMs / 1000) * 1000;
        const outcome = await store!.park(key, g?.token, parkMs);
        if (outcome === 'stale') node.warn(RED._('magento-idempotency-gate.warn.staleParking', { key }));
        settle(key, g?.token);
        showStatus();
        return done();
      }
      if (msg.commit === true || gate.action === 'commit' || returning) {
        const g = mark(msg);
        const key = keyForControl(msg);
        const { outcome } = await store!.commit(key, g?.token, resultOf(msg), ttlMs);
        if (outcome === 'stale') node.warn(RED._('magento-idempotency-gate.warn.staleCommit', { key, leaseSeconds: leaseMs / 1000 }));
        settle(key, g?.token);
        showStatus();
        return done();
      }

      let key: string;
      try {
        key = keyOf!(msg);
      } catch (err) {
        return toErrorOutput(msg, err, send, done);
      }
      // A message the retry queue re-sends names its entry: it may take back a key its own earlier attempt
      // still holds (that attempt was lost, e.g. Node-RED stopped before the answer came back).
      const retryId = retryIdOf(msg);
      const holder = retryId ? `retry:${retryId}` : undefined;
      let answer = await store!.acquire(key, leaseMs, holder);
      if (answer.outcome === 'in-flight' && waitMs > 0) {
        // Poll the store: it may be shared with other instances, so a local signal would not see their commits.
        const until = Date.now() + waitMs;
        let pause = 100;
        while (answer.outcome === 'in-flight' && Date.now() < until && !closing) {
          await sleep(Math.min(pause, Math.max(until - Date.now(), 1)));
          pause = Math.min(pause * 2, 2000);
          answer = await store!.acquire(key, leaseMs, holder);
        }
      }
      if (answer.outcome === 'acquired') {
        counts.passed++;
        msg.idempotencyKey = key;
        msg._gate = { id: node.id, key, token: answer.token, attempt: answer.record.attempts } satisfies GateMark;
        send([msg, null, null]);
        if (completeWhenSettled && !closing) {
          holdUntilSettled(key, answer.token, done);
          showStatus();
          return;
        }
      } else {
        counts.duplicates++;
        msg.idempotencyKey = key;
        msg.gate = described(answer.record, answer.outcome === 'done' ? 'duplicate' : 'in-flight');
        send([null, msg, null]);
      }
      showStatus();
      done();
    }

    let closing = false;
    node.on('input', (msg: NodeMessage, send: (m: unknown) => void, done: (e?: Error) => void) => {
      handle(msg, send, done).catch((err) => {
        // A store that cannot answer must not let the message pass as new: error output, typed transient.
        const typed = err instanceof IntegrationError ? err : new IntegrationError('transient', RED._('magento-idempotency-gate.errors.store', { reason: (err as Error).message }), { target: 'idempotency-store', operation: 'idempotency-gate.check', cause: err });
        node.status({ fill: 'red', shape: 'ring', text: typed.errorClass === 'validation' ? typed.message.slice(0, 60) : 'magento-idempotency-gate.status.storeDown' });
        toErrorOutput(msg, typed, send, done);
      });
    });

    node.on('close', (done: () => void) => {
      closing = true;
      RED.events.removeListener('flows:started', reportOrphans);
      if (statusTimer) clearTimeout(statusTimer);
      // Messages still waiting for their key are completed: their work is cut off with the flow, and the key
      // stays in flight in the store until the lease (or "free keys left by the previous run") frees it.
      const held = unsettled();
      for (const [key, message] of [...held]) if (message.owner === node.id) settle(key);
      if (held.size === 0) unsettledBySpace.delete(space);
      const s = store;
      store = undefined;
      (s ? s.close() : Promise.resolve()).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('magento-idempotency-gate', IdempotencyGateNode);
};
