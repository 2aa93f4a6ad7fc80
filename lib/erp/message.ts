/**
 * One message → one ERP call: what the erp-request node reads of a message (the path override, the
 * idempotency key, the body), checked here so the node only adapts. Plain data in, an `ErpRequest` out, or a
 * `ValidationError` naming the message property and the reason. Nothing of Node-RED.
 */
import { ValidationError } from '../errors';
import { getPath } from '../mapping/paths';
import { ErpMethod, ErpRequest } from './request';
import { checkErpPath, checkIdempotencyKey, ErpRequestSettings } from './settings';

/** The per-message part of the node's settings (`erpSettingsFromConfig`). */
export type ErpMessageSettings = Pick<ErpRequestSettings, 'method' | 'path' | 'bodyProperty' | 'keyHeader'>;

const WITHOUT_BODY: readonly ErpMethod[] = ['GET', 'DELETE'];

/**
 * The value at a body property as `erpSettingsFromConfig` accepts it (`payload`, `erp.order`, `items[0]`), own
 * properties only; undefined when a step is missing.
 */
export function messageProperty(msg: Readonly<Record<string, unknown>>, property: string): unknown {
  return getPath(msg, property.replace(/\[(\d+)\]/g, '.$1'));
}

/**
 * The call a message asks for: `msg.erpPath` (when set) instead of the configured path, `msg.idempotencyKey`
 * (required while a key header is set), the body at `msg.<bodyProperty>` (required for POST, PUT and PATCH; sent with
 * DELETE when there is one; never with GET).
 * Throws a ValidationError with `field` = the message property at fault (`msg.erpPath`, `msg.idempotencyKey`,
 * `msg.<bodyProperty>`). Whether the body has a JSON form is the client's check, as it serialises it once.
 */
export function requestFromMessage(settings: ErpMessageSettings, msg: Readonly<Record<string, unknown>>): ErpRequest {
  const request: ErpRequest = { method: settings.method, path: settings.path };
  const erpPath = msg.erpPath;
  if (erpPath !== undefined && erpPath !== null && erpPath !== '') request.path = checkErpPath(erpPath, 'msg.erpPath');
  if (settings.keyHeader) request.idempotencyKey = checkIdempotencyKey(msg.idempotencyKey, 'msg.idempotencyKey');
  const body = messageProperty(msg, settings.bodyProperty);
  if (body === undefined && !WITHOUT_BODY.includes(settings.method)) {
    throw new ValidationError(
      `msg.${settings.bodyProperty}`,
      `is missing: a ${settings.method} needs a body (set the node's Body property or put the data there)`,
    );
  }
  // A GET carries no body (as with core http request, whose GET never sends msg.payload): an inject's
  // timestamp in msg.payload must not become a body some servers and proxies refuse.
  if (body !== undefined && settings.method !== 'GET') request.body = body;
  return request;
}
