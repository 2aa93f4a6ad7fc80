/**
 * The settings of `npm start` / `npm run sandbox`, read from the environment with the names the README
 * documents. Every default is a sandbox demo value; a value the user set is never printed when it is a secret.
 */
import { SANDBOX_DEFAULTS } from '../magento/index';

export interface SandboxSettings {
  /** Node-RED's port (PORT). */
  port: number;
  magentoPort: number;
  erpPort: number;
  seed: number;
  /** Seeded orders in the Magento sandbox. */
  orders: number;
  bearerToken: string;
  adminUser: string;
  adminPassword: string;
  oauth: { consumerKey: string; consumerSecret: string; accessToken: string; accessTokenSecret: string };
  /** Where the sandbox sends its order webhooks; undefined = no webhooks. */
  webhookUrl?: string;
  webhookSecret: string;
  /** Names of the variables taken from the environment rather than defaulted. */
  fromEnv: ReadonlySet<string>;
}

interface SettingSpec {
  name: string;
  default: string | undefined;
  secret: boolean;
  describe: string;
}

/** Every setting, in the order the README and the start banner list them. */
const D = SANDBOX_DEFAULTS;

/** Every setting, in the order the README and the start banner list them; sandbox values default to the sandbox's own. */
export const SETTINGS: readonly SettingSpec[] = [
  { name: 'PORT', default: '1880', secret: false, describe: 'Node-RED port' },
  { name: 'SANDBOX_MAGENTO_PORT', default: '7080', secret: false, describe: 'Magento sandbox port' },
  { name: 'SANDBOX_ERP_PORT', default: '7090', secret: false, describe: 'demo ERP port' },
  { name: 'SANDBOX_SEED', default: String(D.seed), secret: false, describe: 'seed of the generated catalogue, customers and orders' },
  { name: 'SANDBOX_ORDERS', default: String(D.orders), secret: false, describe: 'seeded orders' },
  { name: 'SANDBOX_BEARER_TOKEN', default: D.bearerToken, secret: true, describe: 'Bearer token the sandbox accepts' },
  { name: 'SANDBOX_ADMIN_USER', default: D.adminUser, secret: false, describe: 'admin user for POST /V1/integration/admin/token' },
  { name: 'SANDBOX_ADMIN_PASSWORD', default: D.adminPassword, secret: true, describe: 'its password' },
  { name: 'SANDBOX_OAUTH_CONSUMER_KEY', default: D.oauth.consumerKey, secret: false, describe: 'OAuth 1.0a integration consumer key' },
  { name: 'SANDBOX_OAUTH_CONSUMER_SECRET', default: D.oauth.consumerSecret, secret: true, describe: 'consumer secret' },
  { name: 'SANDBOX_OAUTH_ACCESS_TOKEN', default: D.oauth.accessToken, secret: true, describe: 'access token' },
  { name: 'SANDBOX_OAUTH_ACCESS_TOKEN_SECRET', default: D.oauth.accessTokenSecret, secret: true, describe: 'access token secret' },
  { name: 'SANDBOX_WEBHOOK_URL', default: undefined, secret: false, describe: 'where the sandbox sends order webhooks' },
  { name: 'SANDBOX_WEBHOOK_SECRET', default: 'sandbox-webhook-secret', secret: true, describe: 'HMAC-SHA256 key of the webhook signature' },
];

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid settings:\n  ${problems.join('\n  ')}`);
    this.name = 'SettingsError';
  }
}

type Env = Record<string, string | undefined>;

/** Reads and checks every setting; throws one SettingsError listing all problems. */
export function readSettings(env: Env = process.env): SandboxSettings {
  const problems: string[] = [];
  const fromEnv = new Set<string>();
  const raw = (name: string): string | undefined => {
    const spec = SETTINGS.find((s) => s.name === name)!;
    const value = env[name];
    if (value !== undefined && value !== '') {
      fromEnv.add(name);
      return spec.secret ? value : value.trim();
    }
    return spec.default;
  };
  const integer = (name: string, min: number, max: number, what: string): number => {
    const text = raw(name)!;
    const n = Number(text);
    if (!/^\s*-?\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`${name} must be ${what} from ${min} to ${max}, not "${text}"`);
      return Number.NaN;
    }
    return n;
  };
  const text = (name: string): string => {
    const value = raw(name)!;
    if (/[\r\n]/.test(value)) problems.push(`${name} must be one line`);
    return value;
  };

  const port = integer('PORT', 1, 65535, 'a port number');
  const magentoPort = integer('SANDBOX_MAGENTO_PORT', 1, 65535, 'a port number');
  const erpPort = integer('SANDBOX_ERP_PORT', 1, 65535, 'a port number');
  const ports: Array<[string, number]> = [['PORT', port], ['SANDBOX_MAGENTO_PORT', magentoPort], ['SANDBOX_ERP_PORT', erpPort]];
  for (let i = 0; i < ports.length; i++) {
    for (let j = i + 1; j < ports.length; j++) {
      if (ports[i][1] === ports[j][1]) problems.push(`${ports[i][0]} and ${ports[j][0]} are both ${ports[i][1]}: each server needs its own port`);
    }
  }
  const seed = integer('SANDBOX_SEED', 0, 2 ** 31 - 1, 'an integer');
  const orders = integer('SANDBOX_ORDERS', 0, 100_000, 'a number of orders');

  let webhookUrl = raw('SANDBOX_WEBHOOK_URL');
  if (webhookUrl !== undefined) {
    try {
      const url = new URL(webhookUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    } catch {
      problems.push(`SANDBOX_WEBHOOK_URL must be an http:// or https:// URL, not "${webhookUrl}"`);
      webhookUrl = undefined;
    }
  }
  const settings: SandboxSettings = {
    port,
    magentoPort,
    erpPort,
    seed,
    orders,
    bearerToken: text('SANDBOX_BEARER_TOKEN'),
    adminUser: text('SANDBOX_ADMIN_USER'),
    adminPassword: text('SANDBOX_ADMIN_PASSWORD'),
    oauth: {
      consumerKey: text('SANDBOX_OAUTH_CONSUMER_KEY'),
      consumerSecret: text('SANDBOX_OAUTH_CONSUMER_SECRET'),
      accessToken: text('SANDBOX_OAUTH_ACCESS_TOKEN'),
      accessTokenSecret: text('SANDBOX_OAUTH_ACCESS_TOKEN_SECRET'),
    },
    webhookUrl,
    webhookSecret: text('SANDBOX_WEBHOOK_SECRET'),
    fromEnv,
  };
  if (problems.length > 0) throw new SettingsError(problems);
  return settings;
}

/**
 * How a value is shown in the start banner: demo defaults in clear (they are public sandbox values),
 * secrets the user set as "set (hidden)".
 */
export function shownValue(name: string, value: string | undefined, fromEnv: ReadonlySet<string>, secret: boolean): string {
  if (value === undefined || value === '') return '(not set)';
  if (!fromEnv.has(name)) return `${value}  (default${secret ? ', a public sandbox demo value' : ''})`;
  return secret ? 'set (hidden)' : `${value}  (from environment)`;
}

/** One line per setting, for the start banner. */
export function describeSettings(settings: SandboxSettings, effectiveWebhookUrl: string | undefined): string[] {
  const values: Record<string, string | undefined> = {
    PORT: String(settings.port),
    SANDBOX_MAGENTO_PORT: String(settings.magentoPort),
    SANDBOX_ERP_PORT: String(settings.erpPort),
    SANDBOX_SEED: String(settings.seed),
    SANDBOX_ORDERS: String(settings.orders),
    SANDBOX_BEARER_TOKEN: settings.bearerToken,
    SANDBOX_ADMIN_USER: settings.adminUser,
    SANDBOX_ADMIN_PASSWORD: settings.adminPassword,
    SANDBOX_OAUTH_CONSUMER_KEY: settings.oauth.consumerKey,
    SANDBOX_OAUTH_CONSUMER_SECRET: settings.oauth.consumerSecret,
    SANDBOX_OAUTH_ACCESS_TOKEN: settings.oauth.accessToken,
    SANDBOX_OAUTH_ACCESS_TOKEN_SECRET: settings.oauth.accessTokenSecret,
    SANDBOX_WEBHOOK_URL: settings.webhookUrl,
    SANDBOX_WEBHOOK_SECRET: settings.webhookSecret,
  };
  const width = Math.max(...SETTINGS.map((s) => s.name.length));
  return SETTINGS.map((spec) => {
    let shown = shownValue(spec.name, values[spec.name], settings.fromEnv, spec.secret);
    if (spec.name === 'SANDBOX_WEBHOOK_URL' && !settings.webhookUrl) {
      shown = effectiveWebhookUrl ? `${effectiveWebhookUrl}  (default: the flow's webhook endpoint)` : '(not set: no webhooks sent)';
    }
    return `${spec.name.padEnd(width)}  ${shown}`;
  });
}
