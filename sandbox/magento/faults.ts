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
  /** Text the request path contains (raw or percent-decoded), e.g. "/V1/orders" or "/V1/order/25/invoice". */
  route?: string;
  /** A regular expression (JavaScript source, no delimiters) the raw path must match, e.g. "^/rest/de/V1/orders/\\d+$". */
  routeRegex?: string;
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
  /** Only paths containing this text get the random faults and latency. */
  route?: string;
  /** Only paths matching this regular expression (JavaScript source, no delimiters) get them. */
  routeRegex?: string;
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

/**
 * Where a fault applies. `route` is always plain text (a path is never read as a pattern, whatever it
 * looks like); a regular expression is only ever given as `routeRegex`, so neither can be mistaken for the other.
 */
interface RouteTarget { route?: string; routeRegex?: string }

const compiled = new Map<string, RegExp>();

function regexOf(source: string): RegExp {
  let re = compiled.get(source);
  if (!re) {
    re = new RegExp(source);
    if (compiled.size > 100) compiled.clear();
    compiled.set(source, re);
  }
  return re;
}

function decoded(path: string): string {
  try { return decodeURIComponent(path); } catch { return path; }
}

function matches(target: RouteTarget, path: string): boolean {
  if (target.route && !path.includes(target.route) && !decoded(path).includes(target.route)) return false;
  if (target.routeRegex && !regexOf(target.routeRegex).test(path)) return false;
  return true;
}

/** Reads `route` / `routeRegex` of a config or rule, naming the field at fault. */
function routeTarget(input: Record<string, unknown>, where: string): RouteTarget {
  const out: RouteTarget = {};
  if (input.route !== undefined && input.route !== null && input.route !== '') {
    if (typeof input.route === 'object') throw new Error(`${where}.route: expected text the request path contains`);
    const route = String(input.route);
    // Before routeRegex existed, "/^…/" or "/…\\…/" was read as a pattern: say so rather than never matching.
    if (/^\/.*\/[gimsuy]*$/.test(route) && /^\/\^|\\/.test(route)) {
      throw new Error(`${where}.route: "${route}" looks like a /regex/; route is plain text the path contains, give a regular expression as routeRegex (no slashes around it)`);
    }
    out.route = route;
  }
  if (input.routeRegex !== undefined && input.routeRegex !== null && input.routeRegex !== '') {
    if (typeof input.routeRegex !== 'string') throw new Error(`${where}.routeRegex: expected a regular expression as text`);
    try { regexOf(input.routeRegex); } catch (e) { throw new Error(`${where}.routeRegex: not a valid regular expression (${(e as Error).message})`); }
    out.routeRegex = input.routeRegex;
  }
  return out;
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
  Object.assign(out, routeTarget(f, 'faults'));
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
      Object.assign(rule, routeTarget(r, `faults.next[${i}]`));
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
      if (rule.count > 0 && (!rule.method || rule.method === method) && matches(rule, path)) {
        rule.count--;
        return { latencyMs: 0, action: rule.fault, retryAfter: rule.retryAfter ?? c.retryAfterSeconds ?? 1 };
      }
    }
    if (!matches(c, path)) return { latencyMs: 0 };
    const latencyMs = (c.latencyMs ?? 0) + (c.latencyJitterMs ? Math.floor(this.rng.next() * c.latencyJitterMs) : 0);
    const retryAfter = c.retryAfterSeconds ?? 1;
    const draws: Array<[number | undefined, FaultAction]> = [[c.resetRate, 'reset'], [c.hangRate, 'hang'], [c.rate429, 429], [c.rate500, 500], [c.rate502, 502], [c.rate503, 503]];
    for (const [rate, action] of draws) {
      if (rate && this.rng.next() < rate) return { latencyMs, action, retryAfter };
    }
    return { latencyMs };
  }
}
