/**
 * `magento-push-shipment`: an ERP delivery → a Magento shipment with tracks, and (when asked) an invoice
 * for exactly the shipped lines. The node adapts Node-RED to lib/fulfilment, where the checks, the
 * item resolution and the repeat detection live.
 */
import { IntegrationError } from '../../lib/errors';
import { INVOICE_MODES, InvoiceMode, ShipmentPush, ShipmentResult } from '../../lib/fulfilment';
import { failMessage, NodeMessage } from '../shared/failure';

interface PushShipmentConfig {
  id: string;
  name?: string;
  store: string;
  invoice?: InvoiceMode;
  capture?: boolean;
  notify?: boolean;
  commentVisible?: boolean;
  topic?: string;
}

export = function (RED: any) {
  function PushShipmentNode(this: any, config: PushShipmentConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const storeNode = RED.nodes.getNode(config.store);
    let push: ShipmentPush | undefined;
    let inFlight = 0;
    let setupError: IntegrationError | undefined;

    if (!storeNode || !storeNode.client) {
      setupError = new IntegrationError('permanent', RED._('magento-push-shipment.errors.noStore'), { field: 'store' });
      node.status({ fill: 'red', shape: 'ring', text: RED._('magento-push-shipment.status.noStore') });
    } else {
      push = new ShipmentPush(storeNode.client, {
        invoice: (INVOICE_MODES as readonly string[]).includes(config.invoice as string) ? config.invoice : 'message',
        capture: config.capture === true,
        notify: config.notify === true,
        commentVisibleOnFront: config.commentVisible === true,
      });
      node.status({});
    }

    function doneText(result: ShipmentResult): string {
      const key = result.created ? 'shipped' : 'repeated';
      const invoice = result.invoice_id !== undefined ? RED._('magento-push-shipment.status.invoice', { id: result.invoice_id }) : '';
      return RED._(`magento-push-shipment.status.${key}`, { order: result.order_number, shipment: result.shipment_id }) + invoice;
    }

    node.on('input', async (msg: NodeMessage, send: (m: unknown) => void, done: (err?: Error) => void) => {
      if (setupError || !push) return failMessage(msg, setupError, done);
      if (msg.payload === undefined || msg.payload === null) {
        node.status({ fill: 'yellow', shape: 'ring', text: RED._('magento-push-shipment.status.invalid') });
        return failMessage(msg, new IntegrationError('validation', RED._('magento-push-shipment.errors.noPayload'), { field: 'payload' }), done);
      }
      inFlight++;
      node.status({ fill: 'blue', shape: 'dot', text: RED._('magento-push-shipment.status.sending', { count: inFlight }) });
      try {
        const result = await push.push(msg.payload);
        msg.erpShipment = msg.payload;
        msg.payload = result;
        if (config.topic) msg.topic = config.topic;
        node.status({ fill: 'green', shape: 'dot', text: doneText(result) });
        send(msg);
        done();
      } catch (err) {
        const e = err as IntegrationError;
        const fill = e && e.errorClass === 'validation' ? 'yellow' : 'red';
        node.status({ fill, shape: 'ring', text: RED._('magento-push-shipment.status.failed', { reason: e && e.errorClass ? e.errorClass : 'error' }) });
        failMessage(msg, err, done);
      } finally {
        inFlight--;
      }
    });
  }

  RED.nodes.registerType('magento-push-shipment', PushShipmentNode);
};
