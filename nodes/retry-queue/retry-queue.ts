/**
 * `magento-retry-queue`: takes failed messages (an error output or a Catch node), retries the transient
 * ones with backoff (output 1), sends the rest to the dead-letter list (output 2), and answers commands
 * and raises alerts on output 3. The policy and the engine live in lib/retry; this adapter reads the
 * editor settings, wires the engine's events to outputs and status, and serves the audit log.
 */
import { randomUUID } from 'crypto';
import { ERROR_CLASSES, IntegrationError, ValidationError, type ErrorClass } from '../../lib/errors';
import { openAuditLog } from '../../lib/audit';
import { DEFAULT_POLICY, type FailureAction, type RetryPolicy } from '../../lib/retry/policy';
import { RetryQueue } from '../../lib/retry/queue';
import { openRetryQueueStore, type RetryQueueStore } from '../../lib/stores';
import { stateDirectory, storeNameFrom, storeOptionsFrom } from '../../lib/stores/config';
import { failMessage, toIntegrationError, type NodeMessage } from '../shared/failure';

interface QueueConfig {
  id: string;
  name?: string;
  storeKind?: string;
  redisUrl?: string;
  queueName?: string;
  maxAttempts?: string | number;
  baseDelaySeconds?: string | number;
  maxDelaySeconds?: string | number;
  maxAgeHours?: string | number;
  maxQueueSize?: string | number;
  attemptLeaseSeconds?: string | number;
  noProgressMinutes?: string | number;
  breakerThreshold?: string | number;
  breakerOpenSeconds?: string | number;
  unknownAs?: ErrorClass;
  onAuth?: FailureAction;
  onNotFound?: FailureAction;
  onValidation?: FailureAction;
}

/** One per process: in-flight entries of this process survive a redeploy; a restart re-arms them. */
const PROCESS_INSTANCE = randomUUID();

function num(value: unknown, field: string, fallback: number, min = 0, integer = false): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) throw new ValidationError(field, `must be ${integer ? 'a whole number' : 'a number'} of at least ${min} (got ${JSON.stringify(value)})`);
  return n;
}

function action(value: unknown, field: string, fallback: FailureAction): FailureAction {
  if (value === undefined || value === '') return fallback;
  if (value !== 'retry' && value !== 'pause' && value !== 'dead') throw new ValidationError(field, 'must be retry, pause or dead');
  return value;
}

function policyFrom(config: QueueConfig): RetryPolicy {
  const actions = { ...DEFAULT_POLICY.actions };
  actions.auth = action(config.onAuth, 'onAuth', actions.auth);
  actions['not-found'] = action(config.onNotFound, 'onNotFound', actions['not-found']);
  actions.validation = action(config.onValidation, 'onValidation', actions.validation);
  const baseMs = num(config.baseDelaySeconds, 'baseDelaySeconds', 1, 0.001) * 1000;
  return {
    actions,
    backoff: { baseMs, maxMs: Math.max(baseMs, num(config.maxDelaySeconds, 'maxDelaySeconds', 900, 0.001) * 1000), factor: 2 },
    maxAttempts: num(config.maxAttempts, 'maxAttempts', DEFAULT_POLICY.maxAttempts, 1, true),
    maxAgeMs: num(config.maxAgeHours, 'maxAgeHours', 24) * 3600_000,
  };
}

export = function (RED: any) {
  function RetryQueueNode(this: any, config: QueueConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    let store: RetryQueueStore | undefined;
    let queue: RetryQueue | undefined;
    let configError: IntegrationError | undefined;
    let full = false;

    let statusTimer: NodeJS.Timeout | undefined;
    function showStatus(): void {
      if (statusTimer || !queue) return;
      statusTimer = setTimeout(async () => {
        statusTimer = undefined;
        if (!queue) return;
        try {
          const stats = await queue.stats();
          const { pending, inFlight, dead } = stats.counts;
          if (stats.paused) {
            node.status({ fill: 'red', shape: 'ring', text: RED._('magento-retry-queue.status.paused', { errorClass: stats.paused.errorClass, target: stats.paused.target ?? '?', pending: pending + inFlight }) });
            return;
          }
          const open = stats.circuits.filter((c) => c.state !== 'closed').map((c) => c.target);
          const next = stats.nextAttemptAt ? new Date(stats.nextAttemptAt).toLocaleTimeString() : '-';
          const text = RED._('magento-retry-queue.status.counts', { pending: pending + inFlight, dead, next })
            + (open.length ? RED._('magento-retry-queue.status.open', { targets: open.join(', ') }) : '')
            + (full ? RED._('magento-retry-queue.status.full') : '');
          node.status({ fill: full || open.length ? 'yellow' : dead > 0 ? 'red' : pending + inFlight > 0 ? 'blue' : 'green', shape: pending + inFlight > 0 ? 'dot' : 'ring', text });
        } catch {
          node.status({ fill: 'red', shape: 'ring', text: 'magento-retry-queue.status.storeDown' });
        }
      }, 500);
      statusTimer.unref?.();
    }

    try {
      const policy = policyFrom(config);
      const unknownAs = config.unknownAs && (ERROR_CLASSES as readonly string[]).includes(config.unknownAs) ? config.unknownAs : 'transient';
      store = openRetryQueueStore(storeOptionsFrom(config, storeNameFrom('retry', config.queueName, node.id), RED.settings?.userDir));
      const leaseMs = num(config.attemptLeaseSeconds, 'attemptLeaseSeconds', 60, 0.05) * 1000;
      queue = new RetryQueue({
        store,
        policy,
        classify: { unknownAs },
        maxQueueSize: num(config.maxQueueSize, 'maxQueueSize', 10_000, 1, true),
        attemptLeaseMs: leaseMs,
        noProgressMs: num(config.noProgressMinutes, 'noProgressMinutes', 15) * 60_000,
        breaker: {
          failureThreshold: num(config.breakerThreshold, 'breakerThreshold', 5, 1, true),
          openMs: num(config.breakerOpenSeconds, 'breakerOpenSeconds', 30, 0.001) * 1000,
          maxOpenMs: 10 * 60_000,
          probeTimeoutMs: leaseMs,
        },
        owner: `${node.id}:${PROCESS_INSTANCE}`,
        events: {
          emit: (message) => { node.send([message, null, null]); },
          deadLetter: (message) => { node.send([null, message, null]); },
          alert: (alert) => {
            node.warn(RED._('magento-retry-queue.warn.alert', { message: alert.message }));
            node.send([null, null, { topic: `retry-queue/alert/${alert.type}`, payload: alert }]);
          },
          change: showStatus,
          error: (err) => {
            node.status({ fill: 'red', shape: 'ring', text: 'magento-retry-queue.status.storeDown' });
            node.error(RED._('magento-retry-queue.errors.background', { reason: (err as Error)?.message ?? String(err) }));
          },
        },
      });
      queue.start().then(showStatus, (err) => node.error(RED._('magento-retry-queue.errors.start', { reason: (err as Error).message })));
    } catch (err) {
      configError = toIntegrationError(err);
      node.error(RED._('magento-retry-queue.errors.config', { reason: configError.message }));
      node.status({ fill: 'red', shape: 'ring', text: 'magento-retry-queue.status.config' });
    }

    async function handle(msg: NodeMessage, send: (m: unknown) => void, done: (e?: Error) => void): Promise<void> {
      if (configError || !queue) return failMessage(msg, configError ?? new IntegrationError('permanent', 'retry queue closed'), done);
      if (msg.command !== undefined) {
        let answer: Record<string, unknown>;
        if (msg.command === 'audit') {
          const audit = openAuditLog({ directory: stateDirectory(RED.settings?.userDir) });
          try {
            const rows = await audit.log.query((msg.payload && typeof msg.payload === 'object' ? msg.payload : {}) as Record<string, never>);
            answer = { command: 'audit', count: rows.length, records: rows };
          } finally {
            void audit.release();
          }
        } else {
          answer = await queue.command(msg.command, msg.payload);
        }
        msg.topic = `retry-queue/${msg.command}`;
        msg.payload = answer;
        send([null, null, msg]);
        showStatus();
        return done();
      }
      const failure = msg.failure as { operation?: string; target?: string } | undefined;
      if (failure?.operation === 'retry-queue.enqueue' && failure.target === store?.name) {
        // Our own refusal came back through a Catch node: storing it would loop; hand it out as a dead letter.
        msg.deadLetter = { reason: 'queue full', stored: false };
        node.warn(RED._('magento-retry-queue.warn.refusedLoop'));
        send([null, msg, null]);
        return done();
      }
      try {
        await queue.accept(msg);
        full = false;
      } catch (err) {
        if (err instanceof IntegrationError && err.operation === 'retry-queue.enqueue') {
          full = true;
          showStatus();
        }
        throw err;
      }
      done();
    }

    node.on('input', (msg: NodeMessage, send: (m: unknown) => void, done: (e?: Error) => void) => {
      handle(msg, send, done).catch((err) => failMessage(msg, err, done));
    });

    node.on('close', (done: () => void) => {
      if (statusTimer) clearTimeout(statusTimer);
      queue?.stop();
      queue = undefined;
      const s = store;
      store = undefined;
      (s ? s.close() : Promise.resolve()).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('magento-retry-queue', RetryQueueNode);

  // The audit log, read by the editor or an admin tool: GET /magento-erp/audit?since=…&store=…&limit=…
  RED.httpAdmin.get('/magento-erp/audit', RED.auth.needsPermission('magento-retry-queue.read'), async (req: any, res: any) => {
    const audit = openAuditLog({ directory: stateDirectory(RED.settings?.userDir) });
    try {
      const q = req.query ?? {};
      const rows = await audit.log.query({
        since: q.since, until: q.until, store: q.store, operation: q.operation, entityType: q.entityType, entityId: q.entityId,
        idempotencyKey: q.idempotencyKey, failedOnly: q.failedOnly === 'true', limit: q.limit === undefined ? undefined : Number(q.limit),
      });
      res.json({ count: rows.length, records: rows });
    } catch (err) {
      const e = err as Error & { field?: string };
      res.status(err instanceof ValidationError ? 400 : 500).json({ error: e.message, field: e.field });
    } finally {
      void audit.release();
    }
  });
};
