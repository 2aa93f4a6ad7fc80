/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * delay = random(0, min(cap, base · factor^(attempt-1))). Full jitter spreads a burst of failures
 * over the whole window, so they do not all come back at once. A Retry-After from the target is a floor.
 */
import { ValidationError } from '../errors';

export interface BackoffOptions {
  /** Delay window of the first retry (ms). */
  baseMs: number;
  /** Largest window (ms). */
  maxMs: number;
  /** Growth per attempt (2 = doubling). */
  factor: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ baseMs: 1000, maxMs: 15 * 60_000, factor: 2 });

export function checkBackoff(options: BackoffOptions): BackoffOptions {
  if (!(options.baseMs > 0)) throw new ValidationError('backoff.baseMs', 'must be more than 0 ms');
  if (!(options.maxMs >= options.baseMs)) throw new ValidationError('backoff.maxMs', 'must be at least the base delay');
  if (!(options.factor >= 1)) throw new ValidationError('backoff.factor', 'must be 1 or more');
  return options;
}

/** The window of attempt n (1-based): base · factor^(n-1), capped. */
export function backoffWindow(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const n = Math.max(1, Math.floor(attempt));
  return Math.min(options.maxMs, options.baseMs * Math.pow(options.factor, n - 1));
}

/** Delay before the retry that follows failure number `attempt`. */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, retryAfterMs?: number, random: () => number = Math.random): number {
  const jittered = Math.floor(random() * backoffWindow(attempt, options));
  return retryAfterMs !== undefined && retryAfterMs > jittered ? Math.ceil(retryAfterMs) : jittered;
}
