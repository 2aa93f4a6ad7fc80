/**
 * `magento-erp-request`: one call to the ERP per message (lib/erp: the message read and checked by
 * `requestFromMessage`, keep-alive client, status → class). Output 1 the answer, output 2 the failure on
 * `msg.failure`, also ended with `done(err)` so Catch nodes and retry-queue see it. The message object travels
 * on, not cloned.
 */
import { openAuditLog } from '../../lib/audit';
import { createErpClient, ErpClient, ErpRequest, erpSettingsFromConfig, ErpRequestForm, ErpRequestSettings, requestFromMessage } from '../../lib/erp';
import { IntegrationError } from '../../lib/errors';
import { Redactor } from '../../lib/redact';
import { stateDirectory } from '../../lib/stores/config';
import { envLookup } from '../shared/env';
import { NodeMessage } from '../shared/failure';
import { throttledStatusCounts } from '../shared/status-counts';

/** How long `close` lets calls on the way finish before it closes the sockets. */
const CLOSE_WAIT_MS = 5000;

interface ErpRequestConfig extends ErpRequestForm {
  id: string;
  name?: string;
  audit?: boolean;
}

export = function (RED: any) {
  function ErpRequestNode(this: any, config: ErpRequestConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const counts = { ok: 0, failed: 0 };
    const redactor = new Redactor([(node.credentials as { token?: string } | undefined)?.token]);

    let settings: ErpRequestSettings | undefined;
    let client: ErpClient | undefined;
    let setupError: IntegrationError | undefined;
    let releaseAudit: (() => Promise<void>) | undefined;
    try {
      settings = erpSettingsFromConfig(config, node.credentials, envLookup(RED, node));
      redactor.addSecret(settings.client.token);
      client = createErpClient(settings.client);
    } catch (err) {
      const reason = redactor.text(err instanceof Error ? err.message : String(err));
      setupError = new IntegrationError('permanent', RED._('magento-erp-request.errors.config', { reason }), {
        target: 'erp', field: (err as { field?: string }).field,
      });
      node.error(setupError.message);
      node.status({ fill: 'red', shape: 'ring', text: RED._('magento-erp-request.status.config') });
    }

    if (client && config.audit !== false) {
      try {
        const audit = openAuditLog({ directory: stateDirectory(RED.settings?.userDir) });
        client.onCall((record) => audit.log.record(record));
        releaseAudit = audit.release;
      } catch (err) {
        node.warn(RED._('magento-erp-request.errors.audit', { reason: (err as Error).message }));
      }
    }

    const status = throttledStatusCounts(node, () => ({ fill: counts.failed ? 'yellow' : 'green' }), () => RED._('magento-erp-request.status.counts', counts));

    type Send = (msgs: Array<NodeMessage | null>) => void;
    type Done = (err?: Error) => void;

    /** Output 2 with `msg.failure`, and `done(err)` so Catch nodes see it too. */
    const fail = (msg: NodeMessage, err: IntegrationError, send: Send, done: Done): void => {
      counts.failed++;
      status.show();
      msg.failure = err.toJSON();
      send([null, msg]);
      done(err);
    };

    /** A typed error as it is; anything else (a bug: the core throws typed errors only) permanent, without the token. */
    const typed = (err: unknown): IntegrationError => (err instanceof IntegrationError
      ? err
      : new IntegrationError('permanent', redactor.text(String((err as Error)?.message ?? err)), { target: 'erp', cause: err }));

    node.on('input', (msg: NodeMessage, send: Send, done: Done) => {
      if (!settings || !client) return fail(msg, setupError!, send, done);
      let request: ErpRequest;
      try {
        request = requestFromMessage(settings, msg);
      } catch (err) {
        return fail(msg, typed(err), send, done);
      }
      client.send(request).then((result) => {
        if (!result.ok) return fail(msg, result.error!, send, done);
        const answer = result.answer!;
        msg.payload = answer.body;
        msg.statusCode = answer.status;
        msg.headers = answer.headers;
        delete msg.failure;
        counts.ok++;
        status.show();
        send([msg, null]);
        done();
      }, (err) => fail(msg, typed(err), send, done));
    });

    node.on('close', async (_removed: boolean, done: () => void) => {
      status.stop();
      try {
        await client?.close(CLOSE_WAIT_MS);
        await releaseAudit?.();
      } catch {
        // Closing anyway.
      }
      node.status({});
      done();
    });
  }

  RED.nodes.registerType('magento-erp-request', ErpRequestNode, {
    credentials: { token: { type: 'password' } },
  });
};
