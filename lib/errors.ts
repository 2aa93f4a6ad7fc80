/**
 * One typed error for everything the pack calls (Magento, the ERP, its own stores) and for bad input.
 * The class decides what happens next: `retry-queue` retries `transient`, pauses on `auth`, and sends the
 * rest to the dead-letter list. Node-RED's Catch node keeps only `error.message`, so nodes put the
 * serialised form on `msg.failure` before calling `done(err)` (see nodes/shared/failure.ts).
 */
export type ErrorClass = 'transient' | 'auth' | 'validation' | 'not-found' | 'permanent';

export const ERROR_CLASSES: readonly ErrorClass[] = ['transient', 'auth', 'validation', 'not-found', 'permanent'];

/** What travels on `msg.failure`: plain JSON, never a secret. */
export interface FailureInfo {
  name: string;
  errorClass: ErrorClass;
  message: string;
  /** HTTP status when the failure was an HTTP answer. */
  status?: number;
  /** Network error code (ECONNRESET, ETIMEDOUT, …) when there was no answer. */
  code?: string;
  /** Milliseconds the target asked us to wait (Retry-After). */
  retryAfterMs?: number;
  /** Which system failed: a store-config name, "erp", or the node's own store. */
  target?: string;
  /** What was being done, e.g. "orders.list", "inventory.source-items.save". */
  operation?: string;
  /** For validation failures: the message property or item field at fault. */
  field?: string;
  /** Extra detail safe to show (never a secret, never customer PII beyond ids). */
  details?: Record<string, unknown>;
  time: string;
}

export interface IntegrationErrorOptions {
  status?: number;
  code?: string;
  retryAfterMs?: number;
  target?: string;
  operation?: string;
  field?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class IntegrationError extends Error {
  readonly errorClass: ErrorClass;
  readonly status?: number;
  readonly code?: string;
  readonly retryAfterMs?: number;
  readonly target?: string;
  readonly operation?: string;
  readonly field?: string;
  readonly details?: Record<string, unknown>;
  readonly time: string;

  constructor(errorClass: ErrorClass, message: string, options: IntegrationErrorOptions = {}) {
    super(message);
    this.name = 'IntegrationError';
    this.errorClass = errorClass;
    this.status = options.status;
    this.code = options.code;
    this.retryAfterMs = options.retryAfterMs;
    this.target = options.target;
    this.operation = options.operation;
    this.field = options.field;
    this.details = options.details;
    this.time = new Date().toISOString();
  }

  get retryable(): boolean {
    return this.errorClass === 'transient';
  }

  toJSON(): FailureInfo {
    const out: FailureInfo = { name: this.name, errorClass: this.errorClass, message: this.message, time: this.time };
    if (this.status !== undefined) out.status = this.status;
    if (this.code !== undefined) out.code = this.code;
    if (this.retryAfterMs !== undefined) out.retryAfterMs = this.retryAfterMs;
    if (this.target !== undefined) out.target = this.target;
    if (this.operation !== undefined) out.operation = this.operation;
    if (this.field !== undefined) out.field = this.field;
    if (this.details !== undefined) out.details = this.details;
    return out;
  }
}

/** Bad input given to a node: names the field and the reason. */
export class ValidationError extends IntegrationError {
  constructor(field: string, reason: string, options: Omit<IntegrationErrorOptions, 'field'> = {}) {
    super('validation', `${field}: ${reason}`, { ...options, field });
    this.name = 'ValidationError';
  }
}

/** Class of an HTTP status as the whole pack sees it. */
export function classifyStatus(status: number): ErrorClass {
  if (status === 408 || status === 429 || status >= 500) return 'transient';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not-found';
  if (status === 400 || status === 422) return 'validation';
  return 'permanent';
}

/** Network failures worth retrying (no answer arrived). */
const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EPIPE', 'EAI_AGAIN',
  'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'UND_ERR_SOCKET',
]);

export function isTransientNetworkCode(code: string | undefined): boolean {
  return code !== undefined && TRANSIENT_CODES.has(code);
}

/** Parses an HTTP Retry-After header (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw === '') return undefined;
  const trimmed = raw.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Rebuilds the typed view of a failure from whatever a message carries (msg.failure, msg.error, an Error). */
export function failureFrom(value: unknown): FailureInfo | undefined {
  if (value instanceof IntegrationError) return value.toJSON();
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.errorClass === 'string' && (ERROR_CLASSES as readonly string[]).includes(v.errorClass) && typeof v.message === 'string') {
      return v as unknown as FailureInfo;
    }
  }
  return undefined;
}
