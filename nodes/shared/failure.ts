/**
 * How every node reports a failure: the typed error travels on `msg.failure` (Node-RED's Catch node
 * keeps only the message text of the Error), and `done(err)` lets Catch and `retry-queue` see it.
 */
import { FailureInfo, IntegrationError } from '../../lib/errors';

export interface NodeMessage {
  [key: string]: unknown;
  _msgid?: string;
  payload?: unknown;
  failure?: FailureInfo;
}

export function toIntegrationError(err: unknown): IntegrationError {
  if (err instanceof IntegrationError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new IntegrationError('permanent', message, { cause: err });
}

/** Marks `msg` with the failure and ends it with `done(err)` so Catch nodes get it. */
export function failMessage(msg: NodeMessage, err: unknown, done: (err?: Error) => void): void {
  const typed = toIntegrationError(err);
  msg.failure = typed.toJSON();
  done(typed);
}
