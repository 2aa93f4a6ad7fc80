/**
 * `magento-push-price`: ERP prices → Magento base, special and tier prices. A thin adapter over
 * lib/prices and lib/batching's PushMessageFlow (set up in nodes/shared/push-node.ts).
 */
import { PricePush, PriceResult } from '../../lib/prices';
import { PushNodeConfig, setUpPushNode } from '../shared/push-node';
import { numberField } from '../shared/settings';

interface PushPriceConfig extends PushNodeConfig {
  name?: string;
  defaultStoreId: number | string;
  defaultWebsiteId: number | string;
  defaultCustomerGroup: string;
  batchSize: number | string;
  maxBuffered: number | string;
}

export = function (RED: any) {
  function PushPriceNode(this: any, config: PushPriceConfig) {
    RED.nodes.createNode(this, config);
    setUpPushNode<PriceResult>(RED, this, 'magento-push-price', config, ({ client, hooks, deps, windowMs }) => new PricePush(client, {
      defaultStoreId: numberField(config.defaultStoreId, 0, 'defaultStoreId', { whole: true }),
      defaultWebsiteId: numberField(config.defaultWebsiteId, 0, 'defaultWebsiteId', { whole: true }),
      defaultCustomerGroup: config.defaultCustomerGroup || 'ALL GROUPS',
      batchSize: numberField(config.batchSize, 0, 'batchSize', { whole: true }),
      windowMs,
      maxBuffered: numberField(config.maxBuffered, 10000, 'maxBuffered', { whole: true }) || 10000,
    }, hooks, deps));
  }

  RED.nodes.registerType('magento-push-price', PushPriceNode);
};
