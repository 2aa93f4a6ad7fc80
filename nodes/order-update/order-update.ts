/**
 * `magento-order-update`: status and comment updates from the ERP (comment, cancel, hold, unhold) for
 * one order by its number. A sibling of push-shipment rather than a mode of it: the message shape and
 * the outcome differ. The node adapts Node-RED to lib/fulfilment/order-update.
 */
import { IntegrationError } from '../../lib/errors';
import { ORDER_ACTIONS, OrderAction, OrderUpdater } from '../../lib/fulfilment';
import { failMessage, NodeMessage } from '../shared/failure';

interface OrderUpdateConfig {
  id: string;
  name?: string;
  store: string;
  action?: OrderAction | '';
  notify?: boolean;
  visibleOnFront?: boolean;
  topic?: string;
}

export = function (RED: any) {
  function OrderUpdateNode(this: any, config: OrderUpdateConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const storeNode = RED.nodes.getNode(config.store);
    let updater: OrderUpdater | undefined;
    let setupError: IntegrationError | undefined;

    if (!storeNode || !storeNode.client) {
      setupError = new IntegrationError('permanent', RED._('magento-order-update.errors.noStore'), { field: 'store' });
      node.status({ fill: 'red', shape: 'ring', text: RED._('magento-order-update.status.noStore') });
    } else {
      const action = (ORDER_ACTIONS as readonly string[]).includes(config.action as string) ? config.action as OrderAction : undefined;
      updater = new OrderUpdater(storeNode.client, { action, notify: config.notify === true, visibleOnFront: config.visibleOnFront === true });
      node.status({});
    }

    node.on('input', async (msg: NodeMessage, send: (m: unknown) => void, done: (err?: Error) => void) => {
      if (setupError || !updater) return failMessage(msg, setupError, done);
      if (msg.payload === undefined || msg.payload === null) {
        node.status({ fill: 'yellow', shape: 'ring', text: RED._('magento-order-update.status.invalid') });
        return failMessage(msg, new IntegrationError('validation', RED._('magento-order-update.errors.noPayload'), { field: 'payload' }), done);
      }
      node.status({ fill: 'blue', shape: 'dot', text: RED._('magento-order-update.status.sending') });
      try {
        const result = await updater.update(msg.payload);
        msg.erpUpdate = msg.payload;
        msg.payload = result;
        if (config.topic) msg.topic = config.topic;
        const key = result.changed ? 'done' : 'unchanged';
        node.status({ fill: 'green', shape: result.changed ? 'dot' : 'ring', text: RED._(`magento-order-update.status.${key}`, { order: result.order_number, action: result.action, state: result.state ?? '?' }) });
        send(msg);
        done();
      } catch (err) {
        const e = err as IntegrationError;
        node.status({ fill: e && e.errorClass === 'validation' ? 'yellow' : 'red', shape: 'ring', text: RED._('magento-order-update.status.failed', { reason: e && e.errorClass ? e.errorClass : 'error' }) });
        failMessage(msg, err, done);
      }
    });
  }

  RED.nodes.registerType('magento-order-update', OrderUpdateNode);
};
