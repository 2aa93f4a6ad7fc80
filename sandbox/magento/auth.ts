/**
 * Who is calling, decided the way Magento 2.4 does: an OAuth 1.0a signed request (integration), a Bearer
 * admin token, or a Bearer integration access token — the last accepted only when "Allow OAuth Access
 * Tokens to be used as standalone Bearer tokens" is on (`oauth/consumer/enable_integration_as_bearer`).
 * Signature checks use the pack's own `lib/magento/oauth1.ts`, so the client and the simulator agree on
 * every byte of the base string.
 */
import { randomBytes } from 'crypto';
import { parseAuthorizationHeader, verifySignature } from '../../lib/magento/oauth1';
import { WebapiError } from './webapi-error';

export type AuthKind = 'oauth' | 'integration-bearer' | 'admin-token' | 'anonymous' | 'rejected';

export interface OAuthCredentials {
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessTokenSecret: string;
}

export interface AuthOptions {
  bearerToken: string;
  adminUser: string;
  adminPassword: string;
  oauth: OAuthCredentials;
  integrationAsBearer: boolean;
  adminTokenTtlMs: number;
  /** Magento_TwoFactorAuth enabled (2.4 default on real stores): the plain admin token route is refused. */
  adminTwoFactorAuth: boolean;
  now: () => number;
}

export interface AuthResult {
  kind: AuthKind;
  /** Set when the caller presented credentials that Magento refuses with its own message. */
  error?: WebapiError;
}

/** Magento's OAuth timestamp tolerance: not more than 600 s in the future. */
const TIME_DEVIATION_S = 600;
/** The consumer id Magento would show in its nonce message. */
const CONSUMER_ID = 1;

export class Auth {
  private readonly adminTokens = new Map<string, number>(); // token → issued at (ms)
  private readonly nonces = new Set<string>();

  constructor(public options: AuthOptions) {}

  issueAdminToken(username: unknown, password: unknown): string {
    const missing: string[] = [];
    if (typeof username !== 'string' || username === '') missing.push('username');
    if (typeof password !== 'string' || password === '') missing.push('password');
    if (missing.length) {
      throw new WebapiError(400, 'One or more input exceptions have occurred.', undefined,
        missing.map((fieldName) => ({ message: '"%fieldName" is required. Enter and try again.', parameters: { fieldName } })));
    }
    if (this.options.adminTwoFactorAuth) {
      throw new WebapiError(401, 'Please use the 2fa provider-specific endpoints to obtain a token.');
    }
    if (username !== this.options.adminUser || password !== this.options.adminPassword) {
      throw new WebapiError(401, 'The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later.');
    }
    const token = randomBytes(16).toString('hex');
    this.adminTokens.set(token, this.options.now());
    return token;
  }

  /** Ends every admin token now (what "expiry" looks like to a client, without waiting 4 h). */
  expireAdminTokens(): void {
    this.adminTokens.clear();
  }

  clear(): void {
    this.adminTokens.clear();
    this.nonces.clear();
  }

  authenticate(method: string, url: string, authorization: string | undefined): AuthResult {
    if (!authorization) return { kind: 'anonymous' };
    const bearer = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (bearer) {
      const token = bearer[1].trim();
      const issued = this.adminTokens.get(token);
      if (issued !== undefined) {
        if (this.options.now() - issued < this.options.adminTokenTtlMs) return { kind: 'admin-token' };
        this.adminTokens.delete(token);
        return { kind: 'rejected' };
      }
      if (token === this.options.bearerToken || token === this.options.oauth.accessToken) {
        return this.options.integrationAsBearer ? { kind: 'integration-bearer' } : { kind: 'rejected' };
      }
      return { kind: 'rejected' };
    }
    if (/^OAuth\s/i.test(authorization.trim())) return this.verifyOAuth(method, url, authorization);
    return { kind: 'rejected' };
  }

  private verifyOAuth(method: string, url: string, authorization: string): AuthResult {
    const o = this.options.oauth;
    const p = parseAuthorizationHeader(authorization);
    const fail = (status: number, message: string, parameters?: Array<string | number>): AuthResult =>
      ({ kind: 'rejected', error: new WebapiError(status, message, parameters) });
    for (const name of ['oauth_consumer_key', 'oauth_signature', 'oauth_signature_method', 'oauth_nonce', 'oauth_timestamp', 'oauth_token']) {
      if (!p[name]) return fail(400, '"%1" is required. Enter and try again.', [name]);
    }
    if (p.oauth_version && p.oauth_version !== '1.0') return fail(400, 'The "%1" Oauth version isn\'t supported.', [p.oauth_version]);
    if (p.oauth_signature_method !== 'HMAC-SHA256' && p.oauth_signature_method !== 'HMAC-SHA1') {
      return fail(400, 'Signature method %1 is not supported', [p.oauth_signature_method]);
    }
    if (p.oauth_consumer_key !== o.consumerKey) return fail(401, 'A consumer having the specified key does not exist');
    const ts = Number(p.oauth_timestamp);
    if (!Number.isInteger(ts) || ts <= 0 || ts > Math.floor(this.options.now() / 1000) + TIME_DEVIATION_S) {
      return fail(400, 'Incorrect timestamp value in the oauth_timestamp parameter');
    }
    if (p.oauth_token !== o.accessToken) return fail(401, 'Specified token does not exist');
    const result = verifySignature({ method, url, authorization, consumerSecret: o.consumerSecret, tokenSecret: o.accessTokenSecret });
    if (!result.ok) return fail(401, 'The signature is invalid. Verify and try again.');
    const nonceKey = `${p.oauth_nonce}|${p.oauth_consumer_key}`;
    if (this.nonces.has(nonceKey)) return fail(401, 'The nonce is already being used by the consumer with ID %1', [CONSUMER_ID]);
    this.nonces.add(nonceKey);
    if (this.nonces.size > 200_000) this.nonces.clear();
    return { kind: 'oauth' };
  }
}
