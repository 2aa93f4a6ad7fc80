/**
 * `magento-map-order`: raw Magento order in `msg.payload` → canonical ERP order. The node adapts
 * Node-RED to lib/mapping (schemas, mapping rules and the totals check live there): a valid order leaves
 * on output 1, an invalid one on output 2 with every reason, the raw order kept for a later re-map.
 */
import { IntegrationError } from '../../lib/errors';
import { compileOrderSchemas, mapAndValidateOrder, MappingOptions, optionsFromConfig, MapOrderConfig } from '../../lib/mapping';
import { failMessage, NodeMessage } from '../shared/failure';
import { throttledStatusCounts } from '../shared/status-counts';

/** The canonical order map-order produces (not a Magento order, which has an entity_id). */
function isCanonicalOrder(value: unknown): boolean {
  return !!value && typeof value === 'object' && 'order_number' in value && !('entity_id' in value);
}

export = function (RED: any) {
  function MapOrderNode(this: any, config: MapOrderConfig & { id: string; name?: string; validateInput?: boolean; wires?: string[][] }) {
    RED.nodes.createNode(this, config);
    const node = this;
    const counts = { mapped: 0, invalid: 0 };
    // Without a wire on output 2 an invalid order would vanish; it goes to Catch nodes instead.
    const invalidWired = Array.isArray(config.wires?.[1]) && (config.wires as string[][])[1].length > 0;
    const validateInput = config.validateInput !== false;

    let options: MappingOptions | undefined;
    let setupError: IntegrationError | undefined;
    try {
      options = optionsFromConfig(config);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      setupError = new IntegrationError('permanent', RED._('magento-map-order.errors.config', { reason }), { operation: 'order.map' });
      node.status({ fill: 'red', shape: 'ring', text: RED._('magento-map-order.status.config') });
    }

    // Compiled now rather than on the first order, so a stream's first orders do not wait for it (a schema
    // that fails to compile is reported by that order's validation, with the reason).
    try {
      compileOrderSchemas({ validateInput });
    } catch {
      // reported per order
    }

    // Counts at most twice a second (nodes/shared/status-counts.ts); the first invalid order at once.
    const status = throttledStatusCounts(node, () => ({ fill: counts.invalid ? 'yellow' : 'green' }), () => RED._('magento-map-order.status.counts', counts));

    node.on('input', (msg: NodeMessage, send: (msgs: Array<NodeMessage | null>) => void, done: (err?: Error) => void) => {
      if (setupError || !options) return failMessage(msg, setupError, done);
      let raw: unknown = msg.payload;
      if (isCanonicalOrder(raw) && msg.magentoOrder && typeof msg.magentoOrder === 'object') {
        // A message that was mapped before (e.g. kept by a dead-letter list): map its Magento order again.
        raw = msg.magentoOrder;
      }
      if (typeof raw === 'string') {
        try {
          raw = JSON.parse(raw);
        } catch {
          // left as a string: the input check names it
        }
      }
      const outcome = mapAndValidateOrder(raw, options, { validateInput, inputPrefix: '/payload', outputPrefix: '/erpOrder' });
      msg.magentoOrder = raw;
      if (outcome.ok) {
        msg.payload = outcome.order;
        if (msg.idempotencyKey === undefined || msg.idempotencyKey === null || msg.idempotencyKey === '') {
          msg.idempotencyKey = `order_${outcome.order.order_number}`;
        }
        delete msg.failure;
        delete msg.erpOrder;
        counts.mapped++;
        status.show();
        send([msg, null]);
        return done();
      }
      counts.invalid++;
      status.show();
      if (outcome.order) msg.erpOrder = outcome.order;
      msg.payload = raw;
      if (!invalidWired) return failMessage(msg, outcome.error, done);
      msg.failure = outcome.error.toJSON();
      send([null, msg]);
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      status.stop();
      node.status({});
      done();
    });
  }

  RED.nodes.registerType('magento-map-order', MapOrderNode);
};
