/**
 * `magento-push-inventory`: ERP stock → Magento source items. The node only adapts Node-RED to
 * lib/inventory (validation, coalescing, batching, bisecting, bulk following live there) and
 * lib/batching's PushMessageFlow (set up in nodes/shared/push-node.ts: when each input message ends).
 */
import { InventoryMode, InventoryPush, StockResult, INVENTORY_MODES } from '../../lib/inventory';
import { PushNodeConfig, setUpPushNode } from '../shared/push-node';
import { numberField } from '../shared/settings';

interface PushInventoryConfig extends PushNodeConfig {
  name?: string;
  mode: InventoryMode;
  defaultSource: string;
  warehouses: Array<{ warehouse: string; source: string }>;
  allowNegative: boolean;
  checkSources: boolean;
  checkSkus: boolean;
  batchSize: number | string;
  maxBuffered: number | string;
  bulkPollMs: number | string;
  bulkDeadlineMs: number | string;
}

export = function (RED: any) {
  function PushInventoryNode(this: any, config: PushInventoryConfig) {
    RED.nodes.createNode(this, config);
    setUpPushNode<StockResult>(RED, this, 'magento-push-inventory', config, ({ client, hooks, deps, windowMs }) => {
      const warehouses: Record<string, string> = {};
      for (const row of Array.isArray(config.warehouses) ? config.warehouses : []) {
        if (row && row.warehouse && row.source) warehouses[String(row.warehouse)] = String(row.source);
      }
      return new InventoryPush(client, {
        mode: (INVENTORY_MODES as readonly string[]).includes(config.mode) ? config.mode : 'msi',
        defaultSource: config.defaultSource || 'default',
        warehouses,
        allowNegative: !!config.allowNegative,
        checkSources: config.checkSources !== false,
        checkSkus: config.checkSkus !== false,
        batchSize: numberField(config.batchSize, 0, 'batchSize', { whole: true }),
        windowMs,
        maxBuffered: numberField(config.maxBuffered, 10000, 'maxBuffered', { whole: true }) || 10000,
        bulkPollMs: numberField(config.bulkPollMs, 1000, 'bulkPollMs') || 1000,
        bulkDeadlineMs: numberField(config.bulkDeadlineMs, 300000, 'bulkDeadlineMs') || 300000,
      }, hooks, deps);
    });
  }

  RED.nodes.registerType('magento-push-inventory', PushInventoryNode);
};
