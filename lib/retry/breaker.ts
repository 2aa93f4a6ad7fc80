/**
 * Circuit breaker per target (a store-config name, "erp", …). After `failureThreshold` failures in a
 * row the target is open: retries for it wait instead of hammering it. When the wait is over one probe
 * goes through (half-open); its failure opens the circuit again for twice as long (up to `maxOpenMs`),
 * its success closes it. `failure` and `success` name the transitions (opened, reopened, closed) so the queue
 * can move the retries it holds for the target at once instead of letting them wait out a timer.
 * Pure: time is passed in, so tests drive it without waiting.
 */
export interface BreakerOptions {
  failureThreshold: number;
  openMs: number;
  maxOpenMs: number;
  /** How long a probe may take before another one is allowed. */
  probeTimeoutMs: number;
}

export const DEFAULT_BREAKER: Readonly<BreakerOptions> = Object.freeze({ failureThreshold: 5, openMs: 30_000, maxOpenMs: 10 * 60_000, probeTimeoutMs: 60_000 });

export type CircuitState = 'closed' | 'open' | 'half-open';

interface Circuit {
  failures: number;
  openUntil?: number;
  openMs: number;
  probeUntil?: number;
}

export interface CircuitView {
  target: string;
  state: CircuitState;
  failures: number;
  openUntil?: number;
}

export class CircuitBreaker {
  private readonly circuits = new Map<string, Circuit>();

  constructor(private readonly options: BreakerOptions = DEFAULT_BREAKER) {}

  private circuit(target: string): Circuit {
    let c = this.circuits.get(target);
    if (!c) {
      c = { failures: 0, openMs: this.options.openMs };
      this.circuits.set(target, c);
    }
    return c;
  }

  state(target: string, now: number): CircuitState {
    const c = this.circuits.get(target);
    if (!c || c.openUntil === undefined) return 'closed';
    return now < c.openUntil ? 'open' : 'half-open';
  }

  /**
   * May a call to `target` go now? If not, when to ask again. A call allowed while the target is
   * half-open is the probe whose outcome decides the circuit. A target without a name is never held.
   */
  allow(target: string | undefined, now: number): { allowed: true } | { allowed: false; retryAt: number } {
    if (!target) return { allowed: true };
    const c = this.circuits.get(target);
    if (!c || c.openUntil === undefined) return { allowed: true };
    if (now < c.openUntil) return { allowed: false, retryAt: c.openUntil };
    if (c.probeUntil !== undefined && now < c.probeUntil) return { allowed: false, retryAt: c.probeUntil };
    c.probeUntil = now + this.options.probeTimeoutMs;
    return { allowed: true };
  }

  /** Counts a failure; `opened` / `reopened` (a failed probe) when the circuit opens now, until `openUntil`. */
  failure(target: string | undefined, now: number): { transition?: 'opened' | 'reopened'; openUntil?: number } {
    if (!target) return {};
    const c = this.circuit(target);
    c.failures++;
    if (c.openUntil !== undefined && now >= c.openUntil) {
      // The probe failed: open again, longer.
      c.openMs = Math.min(this.options.maxOpenMs, c.openMs * 2);
      c.openUntil = now + c.openMs;
      c.probeUntil = undefined;
      return { transition: 'reopened', openUntil: c.openUntil };
    }
    if (c.openUntil === undefined && c.failures >= this.options.failureThreshold) {
      c.openUntil = now + c.openMs;
      return { transition: 'opened', openUntil: c.openUntil };
    }
    return {};
  }

  /** A call went through: the circuit closes. True when it had been open (retries were being held). */
  success(target: string | undefined): boolean {
    if (!target) return false;
    const wasOpen = this.circuits.get(target)?.openUntil !== undefined;
    this.circuits.delete(target);
    return wasOpen;
  }

  views(now: number): CircuitView[] {
    return [...this.circuits.entries()].map(([target, c]) => {
      const view: CircuitView = { target, state: this.state(target, now), failures: c.failures };
      if (c.openUntil !== undefined) view.openUntil = c.openUntil;
      return view;
    });
  }
}
