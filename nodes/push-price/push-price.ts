/**
 * `magento-push-price`: ERP prices → Magento base, special and tier prices. A thin adapter over
 * lib/prices and lib/batching's PushMessageFlow.
 */
import { IntegrationError } from '../../lib/errors';
import { PricePush, PriceResult } from '../../lib/prices';
import { PushMessageFlow, Totals } from '../../lib/batching';
import { openTimestampBackend, TimestampStoreConfig } from '../../lib/batching/state';
import type { KeyValueStore } from '../../lib/stores';
import { failMessage, NodeMessage } from '../shared/failure';

interface PushPriceConfig extends TimestampStoreConfig {
  id: string;
  name?: string;
  store: string;
  defaultStoreId: number | string;
  defaultWebsiteId: number | string;
  defaultCustomerGroup: string;
  batchSize: number | string;
  windowMs: number | string;
  maxBuffered: number | string;
  topic?: string;
}

function num(value: unknown, fallback: number): number {
  const n = Number(value);
  return value === '' || value === undefined || value === null || !Number.isFinite(n) || n < 0 ? fallback : n;
}

export = function (RED: any) {
  function PushPriceNode(this: any, config: PushPriceConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const storeNode = RED.nodes.getNode(config.store);
    const windowMs = num(config.windowMs, 250);
    let backend: KeyValueStore | undefined;

    const flow = new PushMessageFlow<NodeMessage, PriceResult>({
      send: (m) => node.send(m),
      fail: failMessage,
      noun: RED._('magento-push-price.noun'),
      topic: config.topic || undefined,
      texts: {
        noPayload: RED._('magento-push-price.errors.noPayload'),
        badPayload: (type) => RED._('magento-push-price.errors.badPayload', { type }),
      },
      status: (totals: Totals, waiting: number, sending: boolean) => {
        if (sending) return node.status({ fill: 'blue', shape: 'dot', text: RED._('magento-push-price.status.sending') });
        const bad = totals.rejected + totals.failed + totals.invalid;
        node.status({
          fill: totals.failed ? 'red' : bad ? 'yellow' : 'green',
          shape: waiting ? 'ring' : 'dot',
          text: RED._('magento-push-price.status.totals', { ...totals, waiting }),
        });
      },
    });

    const setupError = !storeNode || !storeNode.client
      ? new IntegrationError('permanent', RED._('magento-push-price.errors.noStore'))
      : undefined;
    if (setupError) {
      node.status({ fill: 'red', shape: 'ring', text: RED._('magento-push-price.status.noStore') });
    } else {
      try {
        backend = openTimestampBackend(config, { userDir: RED.settings?.userDir });
      } catch (err) {
        node.warn(RED._('magento-push-price.errors.stateStore', { reason: (err as Error).message }));
      }
      flow.attach(new PricePush(storeNode.client, {
        defaultStoreId: Math.floor(num(config.defaultStoreId, 0)),
        defaultWebsiteId: Math.floor(num(config.defaultWebsiteId, 0)),
        defaultCustomerGroup: config.defaultCustomerGroup || 'ALL GROUPS',
        batchSize: num(config.batchSize, 0),
        windowMs,
        maxBuffered: num(config.maxBuffered, 10000) || 10000,
      }, flow.pusherHooks(), { timestamps: backend, timestampPrefix: storeNode.name || storeNode.id }));
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

  RED.nodes.registerType('magento-push-price', PushPriceNode);
};
