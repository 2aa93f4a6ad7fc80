/**
 * `magento-push-inventory`: ERP stock → Magento source items. The node only adapts Node-RED to
 * lib/inventory (validation, coalescing, batching, bisecting, bulk following live there) and
 * lib/batching's PushMessageFlow (when each input message ends).
 */
import { IntegrationError } from '../../lib/errors';
import { InventoryMode, InventoryPush, StockResult, INVENTORY_MODES } from '../../lib/inventory';
import { PushMessageFlow, Totals } from '../../lib/batching';
import { openTimestampBackend, TimestampStoreConfig } from '../../lib/batching/state';
import type { KeyValueStore } from '../../lib/stores';
import { failMessage, NodeMessage } from '../shared/failure';

interface PushInventoryConfig extends TimestampStoreConfig {
  id: string;
  name?: string;
  store: string;
  mode: InventoryMode;
  defaultSource: string;
  warehouses: Array<{ warehouse: string; source: string }>;
  allowNegative: boolean;
  checkSources: boolean;
  checkSkus: boolean;
  batchSize: number | string;
  windowMs: number | string;
  maxBuffered: number | string;
  bulkPollMs: number | string;
  bulkDeadlineMs: number | string;
  topic?: string;
}

function num(value: unknown, fallback: number): number {
  const n = Number(value);
  return value === '' || value === undefined || value === null || !Number.isFinite(n) || n < 0 ? fallback : n;
}

export = function (RED: any) {
  function PushInventoryNode(this: any, config: PushInventoryConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const storeNode = RED.nodes.getNode(config.store);
    const windowMs = num(config.windowMs, 250);
    let backend: KeyValueStore | undefined;

    const flow = new PushMessageFlow<NodeMessage, StockResult>({
      send: (m) => node.send(m),
      fail: failMessage,
      noun: RED._('magento-push-inventory.noun'),
      topic: config.topic || undefined,
      texts: {
        noPayload: RED._('magento-push-inventory.errors.noPayload'),
        badPayload: (type) => RED._('magento-push-inventory.errors.badPayload', { type }),
      },
      status: (totals: Totals, waiting: number, sending: boolean) => {
        if (sending) return node.status({ fill: 'blue', shape: 'dot', text: RED._('magento-push-inventory.status.sending') });
        const bad = totals.rejected + totals.failed + totals.invalid;
        node.status({
          fill: totals.failed ? 'red' : bad ? 'yellow' : 'green',
          shape: waiting ? 'ring' : 'dot',
          text: RED._('magento-push-inventory.status.totals', { ...totals, waiting }),
        });
      },
    });

    const setupError = !storeNode || !storeNode.client
      ? new IntegrationError('permanent', RED._('magento-push-inventory.errors.noStore'))
      : undefined;
    if (setupError) {
      node.status({ fill: 'red', shape: 'ring', text: RED._('magento-push-inventory.status.noStore') });
    } else {
      try {
        backend = openTimestampBackend(config, { userDir: RED.settings?.userDir });
      } catch (err) {
        node.warn(RED._('magento-push-inventory.errors.stateStore', { reason: (err as Error).message }));
      }
      const warehouses: Record<string, string> = {};
      for (const row of Array.isArray(config.warehouses) ? config.warehouses : []) {
        if (row && row.warehouse && row.source) warehouses[String(row.warehouse)] = String(row.source);
      }
      flow.attach(new InventoryPush(storeNode.client, {
        mode: (INVENTORY_MODES as readonly string[]).includes(config.mode) ? config.mode : 'msi',
        defaultSource: config.defaultSource || 'default',
        warehouses,
        allowNegative: !!config.allowNegative,
        checkSources: config.checkSources !== false,
        checkSkus: config.checkSkus !== false,
        batchSize: num(config.batchSize, 0),
        windowMs,
        maxBuffered: num(config.maxBuffered, 10000) || 10000,
        bulkPollMs: num(config.bulkPollMs, 1000) || 1000,
        bulkDeadlineMs: num(config.bulkDeadlineMs, 300000) || 300000,
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

  RED.nodes.registerType('magento-push-inventory', PushInventoryNode);
};
