/**
 * What kind of failure a message carries. The typed `msg.failure` (FailureInfo, put there by our nodes)
 * wins; otherwise the plain `msg.error` a Catch node or a core node (http request) leaves is read for an
 * HTTP status or a network code; what still says nothing falls back to `unknownAs`.
 */
import { classifyStatus, failureFrom, isTransientNetworkCode, type ErrorClass, type FailureInfo } from '../errors';

export interface ClassifyOptions {
  /** Class for an error that carries neither a typed class, an HTTP status nor a network code. */
  unknownAs?: ErrorClass;
}

const STATUS_IN_TEXT = /\b(?:status(?:\s*code)?|HTTP(?:\/\d(?:\.\d)?)?)\s*[:=]?\s*([1-5]\d\d)\b/i;
const CODE_IN_TEXT = /\b(E[A-Z]{3,}|ERR_[A-Z_]+|UND_ERR_[A-Z_]+)\b/;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599 ? n : undefined;
}

/** Reads the failure of a message; undefined when it carries none (no `failure`, no `error`). */
export function failureOfMessage(msg: Record<string, unknown>, options: ClassifyOptions = {}, now: Date = new Date()): FailureInfo | undefined {
  const typed = failureFrom(msg.failure);
  if (typed) return typed;
  const error = msg.error;
  if (error === undefined || error === null || error === '') return undefined;
  const e = (typeof error === 'object' ? error : { message: String(error) }) as Record<string, unknown>;
  const typedError = failureFrom(e);
  if (typedError) return typedError;
  const message = str(e.message) ?? (typeof error === 'string' ? error : 'Unknown error');
  // The http request node leaves the answer's status on msg.statusCode.
  const status = num(e.status) ?? num(e.statusCode) ?? num(msg.statusCode) ?? num(STATUS_IN_TEXT.exec(message)?.[1]);
  const code = str(e.code) ?? CODE_IN_TEXT.exec(message)?.[1];
  let errorClass: ErrorClass;
  if (status !== undefined && status >= 400) errorClass = classifyStatus(status);
  else if (isTransientNetworkCode(code)) errorClass = 'transient';
  else errorClass = options.unknownAs ?? 'transient';
  const info: FailureInfo = { name: str(e.name) ?? 'Error', errorClass, message, time: now.toISOString() };
  if (status !== undefined) info.status = status;
  if (code !== undefined) info.code = code;
  const headers = msg.headers as Record<string, unknown> | undefined;
  const retryAfter = headers && typeof headers === 'object' ? headers['retry-after'] : undefined;
  if (typeof retryAfter === 'string' && status !== undefined) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - now.getTime();
    if (Number.isFinite(ms) && ms >= 0) info.retryAfterMs = Math.round(ms);
  }
  const source = e.source as Record<string, unknown> | undefined;
  if (source && typeof source === 'object') info.details = { sourceId: source.id, sourceType: source.type, sourceName: source.name };
  return info;
}
