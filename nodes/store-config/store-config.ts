/**
 * `magento-store-config`: one Magento store (URL, store code, auth, limits). Other nodes reach it with
 * `RED.nodes.getNode(config.store)` and use its `client` (a MagentoClient) and `settings`.
 */
import { createMagentoClient } from '../../lib/magento/client';
import { testConnection } from '../../lib/magento/connection-test';
import { settingsFromConfig, StoreConfigCredentials, StoreConfigForm } from '../../lib/magento/settings';
import type { MagentoClient, StoreSettings } from '../../lib/magento/types';
import { Redactor } from '../../lib/redact';
import { secretsOf } from '../../lib/magento/client';
import { envLookup } from '../shared/env';
import { attachAuditLog } from '../../lib/audit';
import { stateDirectory } from '../../lib/stores/config';

const CREDENTIAL_KEYS: Array<keyof StoreConfigCredentials> = [
  'consumerKey', 'consumerSecret', 'accessToken', 'accessTokenSecret', 'token', 'username', 'password',
];
/** What the editor sends back for a password field the user did not touch. */
const PASSWORD_PLACEHOLDER = '__PWRD__';

export = function (RED: any) {
  function StoreConfigNode(this: any, config: StoreConfigForm & { id: string }) {
    RED.nodes.createNode(this, config);
    const node = this;
    node.name = config.name;
    let client: MagentoClient | undefined;
    let settings: StoreSettings | undefined;
    try {
      settings = settingsFromConfig(config, node.credentials as StoreConfigCredentials, envLookup(RED, node));
      client = createMagentoClient(settings);
    } catch (err) {
      // A bad store config must not stop Node-RED: the nodes using it report `configError` on each message.
      node.configError = err;
      node.error(RED._('magento-store-config.errors.invalid', { reason: new Redactor(secretValues(node.credentials)).text((err as Error).message) }));
    }
    // Non-enumerable: never serialised or printed with the node (they hold the credentials).
    Object.defineProperty(node, 'client', { value: client, enumerable: false, configurable: true });
    Object.defineProperty(node, 'settings', { value: settings ? Object.freeze({ ...settings }) : undefined, enumerable: false, configurable: true });

    let detachAudit: (() => unknown) | undefined;
    if (client && (config as { audit?: unknown }).audit !== false) {
      const days = Number((config as { auditRetentionDays?: unknown }).auditRetentionDays);
      try {
        detachAudit = attachAuditLog(client, stateDirectory(RED.settings?.userDir), Number.isFinite(days) && days > 0 ? days : undefined);
      } catch (err) {
        // Without its audit log the store still works; say why once instead of failing every call.
        node.warn(RED._('magento-store-config.errors.audit', { reason: (err as Error).message }));
      }
    }

    node.on('close', (done: () => void) => {
      client?.close();
      // The audit log buffers its rows: wait until the last ones are on disk before Node-RED goes on.
      Promise.resolve(detachAudit?.()).catch((err) => node.warn(RED._('magento-store-config.errors.audit', { reason: (err as Error).message }))).finally(() => done());
    });
  }

  function secretValues(credentials: StoreConfigCredentials | undefined): string[] {
    if (!credentials) return [];
    return [credentials.consumerSecret, credentials.accessToken, credentials.accessTokenSecret, credentials.token, credentials.password]
      .filter((v): v is string => typeof v === 'string');
  }

  RED.nodes.registerType('magento-store-config', StoreConfigNode, {
    credentials: {
      consumerKey: { type: 'text' },
      consumerSecret: { type: 'password' },
      accessToken: { type: 'password' },
      accessTokenSecret: { type: 'password' },
      token: { type: 'password' },
      username: { type: 'text' },
      password: { type: 'password' },
    },
  });

  /**
   * Test connection with the editor's current (maybe unsaved) values. Password fields the user did not
   * change come back as `__PWRD__`: those take the deployed node's stored credentials.
   */
  async function handleTest(req: any, res: any): Promise<void> {
    const id: string | undefined = req.params.id;
    const body = (req.body && typeof req.body === 'object') ? req.body : {};
    const deployed = id ? RED.nodes.getNode(id) : undefined;
    const stored: StoreConfigCredentials = (id && RED.nodes.getCredentials(id)) || {};
    const form: StoreConfigForm = Object.keys(body.config ?? {}).length ? body.config : (deployed ? deployedForm(id!) : {});
    const given: StoreConfigCredentials = body.credentials ?? {};
    const credentials: StoreConfigCredentials = {};
    for (const key of CREDENTIAL_KEYS) {
      const v = given[key];
      credentials[key] = v === undefined || v === PASSWORD_PLACEHOLDER ? stored[key] : v;
    }
    const redactor = new Redactor(secretValues(credentials));
    let client: MagentoClient | undefined;
    try {
      const settings = settingsFromConfig(form, credentials, envLookup(RED, deployed ?? null));
      client = createMagentoClient(settings);
      for (const s of secretsOf(settings.auth)) redactor.addSecret(s);
      const result = await testConnection(client);
      res.json(redactor.value({ ...result, store: { name: settings.name, baseUrl: settings.baseUrl, storeCode: settings.storeCode, authType: settings.auth.type } }));
    } catch (err) {
      const e = err as { message?: string; errorClass?: string; field?: string };
      res.json(redactor.value({ ok: false, error: { message: String(e.message ?? err), errorClass: e.errorClass ?? 'validation', field: e.field } }));
    } finally {
      client?.close();
    }
  }

  function deployedForm(id: string): StoreConfigForm {
    let found: StoreConfigForm = {};
    RED.nodes.eachNode((n: any) => {
      if (n.id === id) found = n;
    });
    return found;
  }

  const guard = RED.auth.needsPermission('magento-store-config.write');
  RED.httpAdmin.post('/magento-store-config/test', guard, (req: any, res: any) => { void handleTest(req, res); });
  RED.httpAdmin.post('/magento-store-config/:id/test', guard, (req: any, res: any) => { void handleTest(req, res); });
};
