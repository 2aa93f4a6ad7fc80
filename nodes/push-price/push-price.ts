/**
 * `magento-push-price`: ERP prices → Magento base, special and tier prices. A thin adapter over
 * lib/prices and lib/batching's PushMessageFlow (set up in nodes/shared/push-node.ts).
 */
import { PricePush, PriceResult } from '../../lib/prices';
import { numberSetting, PushNodeConfig, setUpPushNode } from '../shared/push-node';

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
      defaultStoreId: Math.floor(numberSetting(config.defaultStoreId, 0)),
      defaultWebsiteId: Math.floor(numberSetting(config.defaultWebsiteId, 0)),
      defaultCustomerGroup: config.defaultCustomerGroup || 'ALL GROUPS',
      batchSize: numberSetting(config.batchSize, 0),
      windowMs,
      maxBuffered: numberSetting(config.maxBuffered, 10000) || 10000,
    }, hooks, deps));
  }

  RED.nodes.registerType('magento-push-price', PushPriceNode);
};
