/**
 * Reads a request body as raw bytes with a size limit. The signature covers the exact bytes sent, so the
 * body must not go through a JSON parser first (re-serialising changes spacing, key order and escapes).
 */
import type { IncomingMessage } from 'http';
import { WebhookRejection } from './webhook';

export interface RawBodyRequest extends IncomingMessage {
  /** Set by body parsers (express, Node-RED's http in raw capture) when they consumed the stream. */
  _body?: boolean;
  body?: unknown;
}

/** Thrown when something before us already parsed the body, so the raw bytes are gone. */
export class RawBodyUnavailable extends Error {
  constructor() {
    super('The request body was already parsed before this node saw it (an httpNodeMiddleware body parser?), so its signature cannot be checked');
    this.name = 'RawBodyUnavailable';
  }
}

export function readRawBody(req: RawBodyRequest, maxBytes: number): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity' && encoding !== '') {
    return Promise.reject(new WebhookRejection('unsupported-encoding', `Content-Encoding "${encoding}" is not accepted; send the body uncompressed`));
  }
  if (req._body || req.readableEnded) {
    if (Buffer.isBuffer(req.body)) {
      if (req.body.length > maxBytes) return Promise.reject(tooLarge(maxBytes));
      return Promise.resolve(req.body);
    }
    return Promise.reject(new RawBodyUnavailable());
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    req.resume();
    return Promise.reject(tooLarge(maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const onData = (chunk: Buffer): void => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        chunks.length = 0;
        // Keep draining (without keeping) so the sender can read our 413 instead of a reset connection.
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const cleanup = (): void => {
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.removeListener('aborted', onAborted);
    };
    const onEnd = (): void => {
      cleanup();
      if (failed) return;
      if (declared !== undefined && Number(declared) !== size) {
        failed = true;
        reject(new WebhookRejection('incomplete-body', `The body has ${size} bytes, Content-Length said ${declared}`));
        return;
      }
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      if (failed) return;
      failed = true;
      reject(new WebhookRejection('incomplete-body', `The body could not be read (${err.message})`));
    };
    const onAborted = (): void => onError(new Error('the sender closed the connection'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

function tooLarge(maxBytes: number): WebhookRejection {
  return new WebhookRejection('too-large', `The body is larger than the ${maxBytes} bytes allowed`);
}
