/**
 * What the queue does with a failure: the classification table (class → retry / pause / dead letter),
 * the backoff, and the limits (attempts, age). Pure: the queue engine asks, this answers.
 */
import { ERROR_CLASSES, ValidationError, type ErrorClass, type FailureInfo } from '../errors';
import { backoffDelay, checkBackoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';

export type FailureAction = 'retry' | 'pause' | 'dead';

export const DEFAULT_ACTIONS: Readonly<Record<ErrorClass, FailureAction>> = Object.freeze({
  // The target is busy or unreachable: it will likely work later.
  transient: 'retry',
  // Credentials are wrong for every message alike: retrying burns attempts for nothing.
  auth: 'pause',
  // The same message will be refused the same way: a person must look.
  validation: 'dead',
  'not-found': 'dead',
  permanent: 'dead',
});

export interface RetryPolicy {
  actions: Record<ErrorClass, FailureAction>;
  backoff: BackoffOptions;
  /** Counted failures after which the entry is a dead letter. */
  maxAttempts: number;
  /** Age (ms since the first failure) after which the entry is a dead letter; 0 = no limit. */
  maxAgeMs: number;
}

export const DEFAULT_POLICY: Readonly<RetryPolicy> = Object.freeze({
  actions: { ...DEFAULT_ACTIONS },
  backoff: { ...DEFAULT_BACKOFF },
  maxAttempts: 8,
  maxAgeMs: 24 * 3600_000,
});

export function checkPolicy(policy: RetryPolicy): RetryPolicy {
  for (const cls of ERROR_CLASSES) {
    if (!['retry', 'pause', 'dead'].includes(policy.actions[cls])) throw new ValidationError(`actions.${cls}`, 'must be retry, pause or dead');
  }
  checkBackoff(policy.backoff);
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) throw new ValidationError('maxAttempts', 'must be an integer of 1 or more');
  if (!(policy.maxAgeMs >= 0)) throw new ValidationError('maxAgeMs', 'must be 0 (no limit) or a positive number of milliseconds');
  return policy;
}

export type Decision =
  | { action: 'retry'; delayMs: number }
  | { action: 'pause' }
  | { action: 'dead'; reason: string };

/**
 * `attempt`: counted failures so far including this one; `since`: start of the current retry budget
 * (the first failure, or the moment an operator retried a dead letter).
 */
export function decide(failure: FailureInfo, attempt: number, since: number, now: number, policy: RetryPolicy, random: () => number = Math.random): Decision {
  const action = policy.actions[failure.errorClass] ?? 'dead';
  if (action === 'dead') return { action: 'dead', reason: failure.errorClass };
  if (action === 'pause') return { action: 'pause' };
  if (attempt >= policy.maxAttempts) return { action: 'dead', reason: 'max attempts' };
  const delayMs = backoffDelay(attempt, policy.backoff, failure.retryAfterMs, random);
  if (policy.maxAgeMs > 0 && now + delayMs - since > policy.maxAgeMs) return { action: 'dead', reason: 'max age' };
  return { action: 'retry', delayMs };
}
