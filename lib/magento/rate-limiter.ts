/**
 * One queue per store in front of every HTTP call: at most `maxConcurrency` in flight and at most
 * `requestsPerSecond` started per second (token bucket, burst of one second's worth). Excess calls wait
 * in FIFO order; they never fail for being too many. Timers are read from the globals at call time so
 * sinon fake timers drive it in tests.
 */
import { IntegrationError } from '../errors';

export interface RateLimiterOptions {
  maxConcurrency: number;
  /** 0 or less = no rate limit. */
  requestsPerSecond: number;
}

interface Waiter {
  start: () => void;
  reject: (err: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class RateLimiter {
  private readonly maxConcurrency: number;
  private readonly rps: number;
  private readonly capacity: number;
  private tokens: number;
  private refilledAt: number;
  private running = 0;
  private readonly queue: Waiter[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(options: RateLimiterOptions) {
    this.maxConcurrency = Math.max(1, Math.floor(options.maxConcurrency || 1));
    this.rps = options.requestsPerSecond > 0 ? options.requestsPerSecond : 0;
    this.capacity = Math.max(1, this.rps);
    this.tokens = this.capacity;
    this.refilledAt = Date.now();
  }

  /** Calls in flight. */
  get active(): number {
    return this.running;
  }

  /** Calls waiting for a slot or a token. */
  get pending(): number {
    return this.queue.length;
  }

  /** Runs `task` when a slot and a rate token are free. */
  schedule<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    if (signal?.aborted) return Promise.reject(abortError());
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        reject,
        signal,
        start: () => {
          this.running++;
          let p: Promise<T>;
          try {
            p = Promise.resolve(task());
          } catch (err) {
            p = Promise.reject(err);
          }
          p.then(resolve, reject).finally(() => {
            this.running--;
            this.pump();
          });
        },
      };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) {
            this.queue.splice(i, 1);
            reject(abortError());
          }
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** Rejects everything still queued; calls in flight finish on their own. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.queue.splice(0)) {
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      w.reject(closedError());
    }
  }

  private refill(): void {
    if (!this.rps) return;
    const now = Date.now();
    const elapsed = Math.max(0, now - this.refilledAt);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.rps) / 1000);
    this.refilledAt = now;
  }

  private pump(): void {
    if (this.closed) return;
    while (this.queue.length && this.running < this.maxConcurrency) {
      if (this.rps) {
        this.refill();
        if (this.tokens < 1) {
          if (!this.timer) {
            const wait = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.rps));
            this.timer = setTimeout(() => {
              this.timer = undefined;
              this.pump();
            }, wait);
          }
          return;
        }
        this.tokens -= 1;
      }
      const w = this.queue.shift()!;
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      w.start();
    }
  }
}

function closedError(): IntegrationError {
  return new IntegrationError('transient', 'The Magento client was closed (flow redeployed or Node-RED stopping) before the call started', { code: 'ECLOSED' });
}

function abortError(): IntegrationError {
  return new IntegrationError('transient', 'The call was cancelled before it started', { code: 'ABORT_ERR' });
}
