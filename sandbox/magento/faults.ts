/**
 * Fault injection for the Magento routes: random rates for realism, and counted rules ("the next 3
 * requests to /V1/orders answer 503") so tests are deterministic. Random draws come from a seeded
 * stream, so a given fault config and request sequence always fails the same requests.
 */
import { Rng } from './prng';

export type FaultAction = 'reset' | 'hang' | number;

export interface FaultRule {
  /** How many matching requests this rule still applies to. */
  count: number;
  /** HTTP status (429, 500, 502, 503, ...), or 'reset' (socket destroyed), or 'hang' (never answered). */
  fault: FaultAction;
  /** Substring or /regex/ matched against the path (e.g. "/V1/orders" or "/^\\/rest\\/default\\/V1\\/inventory/"). */
  route?: string;
  method?: string;
  /** Seconds for Retry-After on a 429 (default 1). */
  retryAfter?: number;
}

export interface FaultConfig {
  /** Added to every Magento request before it is answered. */
  latencyMs?: number;
  /** Extra random latency, 0..latencyJitterMs. */
  latencyJitterMs?: number;
  /** Probabilities (0..1) per request. */
  rate429?: number;
  rate500?: number;
  rate502?: number;
  rate503?: number;
  resetRate?: number;
  hangRate?: number;
  /** Retry-After seconds sent with 429 and 503 (default 1). */
  retryAfterSeconds?: number;
  /** Only paths matching this substring or /regex/ get the random faults and latency. */
  route?: string;
  /** Counted rules, applied before the random rates. */
  next?: FaultRule[];
  /** Seed of the random draws (default 1). */
  seed?: number;
}

export interface FaultDecision {
  latencyMs: number;
  action?: FaultAction;
  retryAfter?: number;
}

function matches(pattern: string | undefined, path: string): boolean {
  if (!pattern) return true;
  const re = /^\/(.+)\/([gimsuy]*)$/.exec(pattern);
  if (re) {
    try { return new RegExp(re[1], re[2]).test(path); } catch { return false; }
  }
  return path.includes(pattern);
}

export function validateFaults(input: unknown): FaultConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new Error('faults: expected a JSON object ({} clears every fault)');
  const f = input as Record<string, unknown>;
  const out: FaultConfig = {};
  for (const k of ['latencyMs', 'latencyJitterMs', 'retryAfterSeconds', 'seed'] as const) {
    if (f[k] !== undefined) {
      const n = Number(f[k]);
      if (!Number.isFinite(n) || n < 0) throw new Error(`faults.${k}: expected a number of 0 or more`);
      out[k] = n;
    }
  }
  for (const k of ['rate429', 'rate500', 'rate502', 'rate503', 'resetRate', 'hangRate'] as const) {
    if (f[k] !== undefined) {
      const n = Number(f[k]);
      if (!Number.isFinite(n) || n < 0 || n > 1) throw new Error(`faults.${k}: expected a probability between 0 and 1`);
      out[k] = n;
    }
  }
  if (f.route !== undefined) out.route = String(f.route);
  if (f.next !== undefined) {
    if (!Array.isArray(f.next)) throw new Error('faults.next: expected a list of rules');
    out.next = f.next.map((r: Record<string, unknown>, i: number) => {
      const count = Number(r?.count ?? 1);
      if (!Number.isInteger(count) || count < 1) throw new Error(`faults.next[${i}].count: expected a whole number of 1 or more`);
      const fault = r?.fault ?? r?.status;
      if (fault !== 'reset' && fault !== 'hang' && !(Number.isInteger(Number(fault)) && Number(fault) >= 400 && Number(fault) <= 599)) {
        throw new Error(`faults.next[${i}].fault: expected an HTTP status 400-599, "reset" or "hang"`);
      }
      const rule: FaultRule = { count, fault: fault === 'reset' || fault === 'hang' ? fault : Number(fault) };
      if (r.route !== undefined) rule.route = String(r.route);
      if (r.method !== undefined) rule.method = String(r.method).toUpperCase();
      if (r.retryAfter !== undefined) rule.retryAfter = Number(r.retryAfter);
      return rule;
    });
  }
  return out;
}

/** Reads SANDBOX_FAULTS (a JSON FaultConfig) and SANDBOX_LATENCY_MS, for the launcher. */
export function faultsFromEnv(env: NodeJS.ProcessEnv): FaultConfig | undefined {
  let config: FaultConfig | undefined;
  if (env.SANDBOX_FAULTS) config = validateFaults(JSON.parse(env.SANDBOX_FAULTS));
  if (env.SANDBOX_LATENCY_MS) config = validateFaults({ ...(config ?? {}), latencyMs: env.SANDBOX_LATENCY_MS });
  return config;
}

export class Faults {
  private config: FaultConfig = {};
  private rng = new Rng(1);

  set(config: FaultConfig): void {
    this.config = { ...config, next: config.next?.map((r) => ({ ...r })) };
    this.rng = new Rng(config.seed ?? 1);
  }

  get(): FaultConfig {
    return { ...this.config, next: this.config.next?.filter((r) => r.count > 0).map((r) => ({ ...r })) };
  }

  decide(method: string, path: string): FaultDecision {
    const c = this.config;
    for (const rule of c.next ?? []) {
      if (rule.count > 0 && (!rule.method || rule.method === method) && matches(rule.route, path)) {
        rule.count--;
        return { latencyMs: 0, action: rule.fault, retryAfter: rule.retryAfter ?? c.retryAfterSeconds ?? 1 };
      }
    }
    if (!matches(c.route, path)) return { latencyMs: 0 };
    const latencyMs = (c.latencyMs ?? 0) + (c.latencyJitterMs ? Math.floor(this.rng.next() * c.latencyJitterMs) : 0);
    const retryAfter = c.retryAfterSeconds ?? 1;
    const draws: Array<[number | undefined, FaultAction]> = [[c.resetRate, 'reset'], [c.hangRate, 'hang'], [c.rate429, 429], [c.rate500, 500], [c.rate502, 502], [c.rate503, 503]];
    for (const [rate, action] of draws) {
      if (rate && this.rng.next() < rate) return { latencyMs, action, retryAfter };
    }
    return { latencyMs };
  }
}
