/**
 * One typed error for every failed Magento call, built from the HTTP answer (never from the request):
 * status, Magento's message with its `%1` / `%name` placeholders filled in, the error class, any
 * Retry-After, and the hints an integrator needs (input limits, 2FA, 2.4.4 Bearer refusal).
 */
import {
  ErrorClass, IntegrationError, IntegrationErrorOptions, classifyStatus, isTransientNetworkCode, parseRetryAfter,
} from '../errors';
import { Redactor } from '../redact';
import type { AuthType } from './types';

/** Magento's error body: `{"message": "...%1...", "parameters": [...] | {...}, "trace"?}`. */
export interface MagentoErrorBody {
  message?: string;
  parameters?: unknown[] | Record<string, unknown>;
  errors?: Array<{ message?: string; parameters?: unknown[] | Record<string, unknown> }>;
  trace?: string;
}

/** The input limit Magento enforced (`Maximum items of type "%type" is %max`): split and resend. */
export interface InputLimitInfo {
  type: string;
  max: number;
}

export type MagentoErrorReason =
  | 'input-limit'
  | 'two-factor-auth'
  | 'integration-bearer-refused'
  | 'admin-credentials'
  | 'consumer-not-authorized'
  | 'timeout'
  | 'dns'
  | 'connection-refused'
  | 'certificate'
  | 'network'
  | 'not-json'
  | 'closed'
  | 'aborted';

export interface MagentoErrorOptions extends IntegrationErrorOptions {
  inputLimit?: InputLimitInfo;
  reason?: MagentoErrorReason;
  hint?: string;
  /** The message as Magento wrote it (placeholders filled), before our hints. */
  magentoMessage?: string;
}

export class MagentoError extends IntegrationError {
  readonly inputLimit?: InputLimitInfo;
  readonly reason?: MagentoErrorReason;
  readonly hint?: string;
  readonly magentoMessage?: string;

  constructor(errorClass: ErrorClass, message: string, options: MagentoErrorOptions = {}) {
    const details: Record<string, unknown> = { ...(options.details ?? {}) };
    if (options.inputLimit) details.inputLimit = options.inputLimit;
    if (options.reason) details.reason = options.reason;
    if (options.hint) details.hint = options.hint;
    if (options.magentoMessage !== undefined) details.magentoMessage = options.magentoMessage;
    super(errorClass, message, { ...options, details: Object.keys(details).length ? details : undefined });
    this.name = 'MagentoError';
    this.inputLimit = options.inputLimit;
    this.reason = options.reason;
    this.hint = options.hint;
    this.magentoMessage = options.magentoMessage;
  }
}

/** Fills `%1`, `%2` (1-based positions) and `%name` placeholders the way Magento's Phrase renderer does. */
export function fillMessageParameters(message: string, parameters: unknown): string {
  if (!parameters || typeof parameters !== 'object') return message;
  const text = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  if (Array.isArray(parameters)) {
    return message.replace(/%(\d+)/g, (m, n: string) => {
      const i = Number(n) - 1;
      return i >= 0 && i < parameters.length ? text(parameters[i]) : m;
    });
  }
  const p = parameters as Record<string, unknown>;
  // Longest names first so %max does not eat %maximum; numbered keys as in an array.
  return message.replace(/%([A-Za-z_][A-Za-z0-9_]*|\d+)/g, (m, name: string) => {
    if (Object.prototype.hasOwnProperty.call(p, name)) return text(p[name]);
    if (/^\d+$/.test(name)) {
      const values = Object.values(p);
      const i = Number(name) - 1;
      if (i >= 0 && i < values.length) return text(values[i]);
    }
    return m;
  });
}

const INPUT_LIMIT_TEMPLATE = /^Maximum items of type "(.*)" is (\d+)\.?$/;
const TWO_FA = [
  /use the 2fa provider-specific endpoints/i,
  /configure 2FA first/i,
  /two-factor auth/i,
  /You need to configure Two-Factor Authorization/i,
];
const ADMIN_LOGIN_REFUSED = /sign-in was incorrect|did not sign in correctly|account is (temporarily )?disabled|Invalid login or password/i;

export interface ErrorContext {
  /** Store name (for messages and `target`). */
  target?: string;
  operation?: string;
  /** How the failed call authenticated, to explain a 401 in the right terms. */
  authType?: AuthType;
  /** Secret values to scrub from anything Magento echoed back. */
  redactor?: Redactor;
  /** True for the admin token request itself. */
  adminTokenRequest?: boolean;
  method?: string;
  route?: string;
  timeoutMs?: number;
}

export interface HttpAnswer {
  status: number;
  /** Parsed JSON body, or the raw text when it was not JSON. */
  data: unknown;
  headers?: Record<string, unknown>;
}

function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? String(v[0]) : v === undefined || v === null ? undefined : String(v);
  }
  return undefined;
}

function inputLimitOf(template: string | undefined, parameters: unknown): InputLimitInfo | undefined {
  if (!template) return undefined;
  if (template.startsWith('Maximum items of type') && parameters && typeof parameters === 'object') {
    const p = parameters as Record<string, unknown>;
    const type = Array.isArray(p) ? p[0] : p.type;
    const max = Array.isArray(p) ? p[1] : p.max;
    if (type !== undefined && max !== undefined && Number.isFinite(Number(max))) return { type: String(type), max: Number(max) };
  }
  const filled = INPUT_LIMIT_TEMPLATE.exec(template);
  if (filled) return { type: filled[1], max: Number(filled[2]) };
  return undefined;
}

/** Builds the typed error from an HTTP answer with a non-2xx status. */
export function fromHttpAnswer(answer: HttpAnswer, ctx: ErrorContext = {}): MagentoError {
  const { status } = answer;
  const redactor = ctx.redactor ?? new Redactor();
  const body = (answer.data && typeof answer.data === 'object' ? answer.data : undefined) as MagentoErrorBody | undefined;
  let template = typeof body?.message === 'string' ? body.message : undefined;
  let parameters: unknown = body?.parameters;
  if (template === undefined && Array.isArray(body?.errors) && body!.errors.length) {
    template = body!.errors[0].message;
    parameters = body!.errors[0].parameters;
  }
  let magentoMessage: string | undefined;
  if (template !== undefined) magentoMessage = redactor.text(fillMessageParameters(template, parameters));
  else if (typeof answer.data === 'string' && answer.data.trim() && !/^\s*</.test(answer.data)) {
    magentoMessage = redactor.text(answer.data.trim().slice(0, 300));
  }

  let errorClass = classifyStatus(status);
  const retryAfterMs = parseRetryAfter(header(answer.headers, 'retry-after'));
  let reason: MagentoErrorReason | undefined;
  let hint: string | undefined;
  const inputLimit = inputLimitOf(template, parameters) ?? inputLimitOf(magentoMessage, undefined);
  const where = ctx.target ? ` (store "${ctx.target}")` : '';
  const what = ctx.method && ctx.route ? `${ctx.method} ${ctx.route}` : 'Magento request';

  if (inputLimit) {
    reason = 'input-limit';
    errorClass = 'validation';
    hint = `Magento accepts at most ${inputLimit.max} items of this type in one request (Stores > Configuration > Services > Web API Input Limits); split the request.`;
  } else if (magentoMessage && TWO_FA.some((re) => re.test(magentoMessage!))) {
    reason = 'two-factor-auth';
    errorClass = 'auth';
    hint = 'The store has Two-Factor Authentication (Magento_TwoFactorAuth) on, so POST /V1/integration/admin/token does not issue tokens for a bare username and password. Use an integration (System > Extensions > Integrations) with OAuth 1.0a instead.';
  } else if (ctx.adminTokenRequest && (status === 401 || (magentoMessage && ADMIN_LOGIN_REFUSED.test(magentoMessage)))) {
    reason = 'admin-credentials';
    errorClass = 'auth';
    hint = 'Magento refused the admin username/password (wrong credentials, or the account is locked after too many attempts).';
  } else if (status === 401 && ctx.authType === 'bearer') {
    reason = 'integration-bearer-refused';
    hint = 'If this is an integration access token: Magento 2.4.4 and later refuse integration tokens used as Bearer tokens unless Stores > Configuration > Services > OAuth > Consumer Settings > "Allow OAuth Access Tokens to be used as standalone Bearer tokens" (oauth/consumer/enable_integration_as_bearer) is Yes. Choose OAuth 1.0a and enter the consumer key/secret and access token/secret instead.';
  } else if (status === 401) {
    reason = 'consumer-not-authorized';
    hint = ctx.authType === 'oauth1'
      ? 'Check the four OAuth values and that the integration is active and allowed this resource (System > Extensions > Integrations > API).'
      : ctx.authType === 'none' ? 'This route needs authentication: choose an auth type in the store config.' : undefined;
  }

  if (answer.data !== undefined && typeof answer.data === 'string' && magentoMessage === undefined && answer.data.trim()) {
    reason ??= 'not-json';
  }
  const base = magentoMessage ?? (reason === 'not-json' ? `HTTP ${status} with a non-JSON answer (a proxy or web server error page?)` : `HTTP ${status}`);
  const message = `${what}${where} failed: ${status} ${base}${hint ? ` — ${hint}` : ''}`;
  return new MagentoError(errorClass, message, {
    status, retryAfterMs, target: ctx.target, operation: ctx.operation, inputLimit, reason, hint, magentoMessage,
  });
}

const NETWORK_REASON: Record<string, MagentoErrorReason> = {
  ENOTFOUND: 'dns', EAI_AGAIN: 'dns', ECONNREFUSED: 'connection-refused', ETIMEDOUT: 'timeout', ECONNABORTED: 'timeout',
  ESOCKETTIMEDOUT: 'timeout', ERR_CANCELED: 'aborted',
};
const CERT_CODES = /^(CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT|ERR_SSL|EPROTO$|UNABLE_TO_VERIFY_LEAF_SIGNATURE|HOSTNAME_MISMATCH)/;

/** Builds the typed error for a call that got no HTTP answer. */
export function fromNetworkError(err: unknown, ctx: ErrorContext = {}): MagentoError {
  const redactor = ctx.redactor ?? new Redactor();
  const e = (err ?? {}) as { code?: unknown; message?: unknown; name?: unknown };
  let code = typeof e.code === 'string' ? e.code : undefined;
  const raw = redactor.text(typeof e.message === 'string' ? e.message : String(err));
  const where = ctx.target ? ` (store "${ctx.target}")` : '';
  const what = ctx.method && ctx.route ? `${ctx.method} ${ctx.route}` : 'Magento request';
  let reason: MagentoErrorReason = 'network';
  let errorClass: ErrorClass = isTransientNetworkCode(code) ? 'transient' : 'permanent';
  let text = raw;
  if (e.name === 'AbortError' || code === 'ERR_CANCELED' || code === 'ABORT_ERR') {
    reason = 'aborted';
    errorClass = 'transient';
    text = 'the call was cancelled';
  } else if (code && CERT_CODES.test(code)) {
    reason = 'certificate';
    errorClass = 'permanent';
    text = `TLS certificate problem (${code}): ${raw}. Fix the store's certificate, or turn off TLS verification in the store config for a test store only.`;
  } else if (code === 'ECONNABORTED' && /timeout/i.test(raw) || code === 'ETIMEDOUT' || /timeout of \d+ms exceeded/i.test(raw)) {
    code = 'ETIMEDOUT';
    reason = 'timeout';
    errorClass = 'transient';
    text = `no answer within ${ctx.timeoutMs !== undefined ? ctx.timeoutMs + ' ms' : 'the timeout'}`;
  } else if (code && NETWORK_REASON[code]) {
    reason = NETWORK_REASON[code];
    if (reason === 'dns') text = `the host name does not resolve (${code}); check the base URL`;
    if (reason === 'connection-refused') text = `connection refused (${code}); check the base URL and port`;
  }
  return new MagentoError(errorClass, `${what}${where} failed: ${text}`, {
    code, target: ctx.target, operation: ctx.operation, reason,
  });
}

/** Any thrown value (axios error, Node error, our own) as a MagentoError, with no request data kept. */
export function toMagentoError(err: unknown, ctx: ErrorContext = {}): MagentoError {
  if (err instanceof MagentoError) return err;
  if (err instanceof IntegrationError) {
    return new MagentoError(err.errorClass, (ctx.redactor ?? new Redactor()).text(err.message), {
      status: err.status, code: err.code, retryAfterMs: err.retryAfterMs, target: err.target ?? ctx.target,
      operation: err.operation ?? ctx.operation, field: err.field, details: err.details,
    });
  }
  const e = err as { response?: { status?: number; data?: unknown; headers?: Record<string, unknown> } };
  if (e && typeof e === 'object' && e.response && typeof e.response.status === 'number') {
    return fromHttpAnswer({ status: e.response.status, data: e.response.data, headers: e.response.headers }, ctx);
  }
  return fromNetworkError(err, ctx);
}
