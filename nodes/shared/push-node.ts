/**
 * What `push-inventory` and `push-price` do as Node-RED nodes, once: find the store, open the durable
 * timestamp store, hand messages to lib/batching's PushMessageFlow, show totals in the status and close
 * cleanly. Each node only says how to build its pusher from its own settings.
 */
import { IntegrationError } from '../../lib/errors';
import { Pusher, PushMessageFlow, Totals } from '../../lib/batching';
import type { PushCounts } from '../../lib/batching/result';
import { openTimestampBackend, TIMESTAMP_STORE_NAME, timestampStoreKind, TimestampStoreConfig } from '../../lib/batching/state';
import type { MagentoClient } from '../../lib/magento/types';
import type { KeyValueStore } from '../../lib/stores';
import { failMessage, NodeMessage } from './failure';
import { numberField } from './settings';
import { storeDirectory } from './store-directory';

export interface PushNodeConfig extends TimestampStoreConfig {
  id: string;
  store: string;
  windowMs: number | string;
  topic?: string;
}

/** What a push node gives its pusher: the store's client, the flow's callbacks, the durable state. */
export interface PusherContext<R extends { counts: PushCounts }> {
  client: MagentoClient;
  hooks: ReturnType<PushMessageFlow<NodeMessage, R>['pusherHooks']>;
  deps: { timestamps?: KeyValueStore; timestampPrefix: string };
  windowMs: number;
}

/**
 * Sets `node` up as a push node of `type` (its message catalog namespace). `createPusher` builds the
 * core pusher (InventoryPush, PricePush) from the node's settings.
 */
export function setUpPushNode<R extends { counts: PushCounts }>(
  RED: any,
  node: any,
  type: string,
  config: PushNodeConfig,
  createPusher: (context: PusherContext<R>) => Pusher<R>,
): void {
  const storeNode = RED.nodes.getNode(config.store);
  let backend: KeyValueStore | undefined;
  let windowMs = 250;

  const flow = new PushMessageFlow<NodeMessage, R>({
    send: (m) => node.send(m),
    fail: failMessage,
    noun: RED._(`${type}.noun`),
    topic: config.topic || undefined,
    texts: {
      noPayload: RED._(`${type}.errors.noPayload`),
      badPayload: (payloadType) => RED._(`${type}.errors.badPayload`, { type: payloadType }),
    },
    status: (totals: Totals, waiting: number, sending: boolean) => {
      if (sending) return node.status({ fill: 'blue', shape: 'dot', text: RED._(`${type}.status.sending`) });
      const bad = totals.rejected + totals.failed + totals.invalid;
      node.status({
        fill: totals.failed ? 'red' : bad ? 'yellow' : 'green',
        shape: waiting ? 'ring' : 'dot',
        text: RED._(`${type}.status.totals`, { ...totals, waiting }),
      });
    },
  });

  let setupError: Error | undefined;
  if (!storeNode || !storeNode.client) {
    setupError = new IntegrationError('permanent', RED._(`${type}.errors.noStore`));
    node.status({ fill: 'red', shape: 'ring', text: RED._(`${type}.status.noStore`) });
  } else {
    try {
      windowMs = numberField(config.windowMs, 250, 'windowMs');
      try {
        const directory = storeDirectory(RED, node, type, timestampStoreKind(config), TIMESTAMP_STORE_NAME);
        backend = openTimestampBackend(config, { directory });
      } catch (err) {
        node.warn(RED._(`${type}.errors.stateStore`, { reason: (err as Error).message }));
      }
      flow.attach(createPusher({
        client: storeNode.client,
        hooks: flow.pusherHooks(),
        deps: { timestamps: backend, timestampPrefix: storeNode.name || storeNode.id },
        windowMs,
      }));
    } catch (err) {
      // A setting the node cannot run with (a field named in the message): every message fails with it.
      setupError = err as Error;
      backend?.close().catch(() => undefined);
      backend = undefined;
      node.status({ fill: 'red', shape: 'ring', text: RED._(`${type}.status.configError`) });
      node.error(RED._(`${type}.errors.config`, { reason: setupError.message }));
    }
  }

  node.on('input', (msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => {
    if (setupError) return failMessage(msg, setupError, done);
    void flow.input(msg, done, { flushAlways: windowMs === 0 });
  });

  node.on('close', async (_removed: boolean, done: () => void) => {
    try {
      await flow.close();
    } catch {
      // Failures were reported per batch already.
    }
    try {
      await backend?.close();
    } catch {
      // Closing anyway.
    }
    node.status({});
    done();
  });
}
