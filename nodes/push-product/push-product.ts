/**
 * `magento-push-product`: ERP core product data → Magento, created disabled when new, updated in its
 * core fields only, idempotent by SKU. The node adapts Node-RED to lib/products.
 */
import { IntegrationError } from '../../lib/errors';
import { productItemsOf, ProductPush, ProductPushResult, resultError } from '../../lib/products';
import { failMessage, NodeMessage } from '../shared/failure';
import { numberField } from '../shared/settings';

interface PushProductConfig {
  id: string;
  name?: string;
  store: string;
  storeCode?: string;
  visibility?: number | string;
  attributeSetId?: number | string;
  createEnabled?: boolean;
  websiteIds?: string;
  concurrency?: number | string;
  topic?: string;
}

export = function (RED: any) {
  function PushProductNode(this: any, config: PushProductConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const storeNode = RED.nodes.getNode(config.store);
    const totals = { created: 0, updated: 0, unchanged: 0, invalid: 0, failed: 0 };
    let push: ProductPush | undefined;
    let setupError: IntegrationError | undefined;

    if (!storeNode || !storeNode.client) {
      setupError = new IntegrationError('permanent', RED._('magento-push-product.errors.noStore'), { field: 'store' });
      node.status({ fill: 'red', shape: 'ring', text: RED._('magento-push-product.status.noStore') });
    } else {
      try {
        const websiteIds = String(config.websiteIds ?? '').split(/[\s,]+/).filter(Boolean).map(Number);
        push = new ProductPush(storeNode.client, {
          storeCode: (config.storeCode || 'all').trim(),
          visibility: config.visibility === undefined || config.visibility === '' ? 4 : Number(config.visibility),
          attributeSetId: config.attributeSetId === undefined || config.attributeSetId === '' ? 4 : Number(config.attributeSetId),
          createEnabled: config.createEnabled === true,
          websiteIds,
          concurrency: numberField(config.concurrency, 4, 'concurrency', { whole: true }) || 4,
        });
        node.status({});
      } catch (err) {
        setupError = err as IntegrationError;
        node.error(RED._('magento-push-product.errors.config', { reason: (err as Error).message }));
        node.status({ fill: 'red', shape: 'ring', text: RED._('magento-push-product.status.config') });
      }
    }

    function showTotals(): void {
      const bad = totals.invalid + totals.failed;
      node.status({ fill: totals.failed ? 'red' : bad ? 'yellow' : 'green', shape: 'dot', text: RED._('magento-push-product.status.totals', totals) });
    }

    node.on('input', async (msg: NodeMessage, send: (m: unknown) => void, done: (err?: Error) => void) => {
      if (setupError || !push) return failMessage(msg, setupError, done);
      let raw: unknown[];
      try {
        raw = productItemsOf(msg.payload);
      } catch (err) {
        node.status({ fill: 'yellow', shape: 'ring', text: RED._('magento-push-product.status.invalid') });
        return failMessage(msg, err, done);
      }
      node.status({ fill: 'blue', shape: 'dot', text: RED._('magento-push-product.status.sending', { count: raw.length }) });
      let result: ProductPushResult;
      try {
        result = await push.push(raw);
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: RED._('magento-push-product.status.failed') });
        return failMessage(msg, err, done);
      }
      for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += result.counts[k];
      showTotals();
      const out = RED.util.cloneMessage(msg);
      out.payload = result;
      if (config.topic) out.topic = config.topic;
      send(out);
      const failure = resultError(result, storeNode.name || undefined);
      if (!failure) return done();
      // What a retry should send again: only the items not applied (done ones would come back unchanged anyway).
      msg.payload = { items: failure.indexes.map((i) => raw[i]) };
      failMessage(msg, failure.error, done);
    });
  }

  RED.nodes.registerType('magento-push-product', PushProductNode);
};
