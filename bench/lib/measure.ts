/**
 * What a benchmark row is made of: elapsed time, HTTP calls counted where they arrive (at the Magento
 * sandbox and the demo ERP, not where they are sent), and the peak resident memory of a process.
 */
import { execFileSync } from 'child_process';
import fs from 'fs';
import http from 'http';

/**
 * Requests that reached a server, counted on the server's own 'request' event, and the connections clients
 * opened to it. A request is answered within the socket read that brought it (small bodies arrive whole),
 * so open requests at the server say nothing of a client's concurrency; its keep-alive connections do: a
 * client with N calls out at once holds N connections.
 */
export class RequestCounter {
  total = 0;
  /** Connections open now, the most open at once and those opened since the last reset. */
  sockets = 0;
  maxSockets = 0;
  newSockets = 0;
  private readonly byPrefix = new Map<string, number>();

  constructor(private readonly prefixes: string[] = []) {}

  record(url: string | undefined): void {
    this.total++;
    for (const p of this.prefixes) {
      if (url && url.includes(p)) this.byPrefix.set(p, (this.byPrefix.get(p) ?? 0) + 1);
    }
  }

  connected(): void {
    this.sockets++;
    this.newSockets++;
    if (this.sockets > this.maxSockets) this.maxSockets = this.sockets;
  }

  disconnected(): void {
    this.sockets = Math.max(0, this.sockets - 1);
  }

  matching(prefix: string): number {
    return this.byPrefix.get(prefix) ?? 0;
  }

  reset(): void {
    this.total = 0;
    this.byPrefix.clear();
    this.maxSockets = this.sockets;
    this.newSockets = 0;
  }
}

/**
 * Starts servers while counting every request each of them receives. The sandbox and the demo ERP create
 * their `http.Server` inside their start functions; a 'request' listener added there sees every call
 * without a proxy in the path (a proxy would add its own latency to what is measured).
 */
export async function withRequestCounter<T>(counter: RequestCounter, start: () => Promise<T>): Promise<T> {
  const original = http.createServer;
  const patched = function (this: unknown, ...args: unknown[]) {
    const server = (original as (...a: unknown[]) => http.Server).apply(this, args);
    server.prependListener('request', (req: http.IncomingMessage) => counter.record(req.url));
    server.prependListener('connection', (socket: import('net').Socket) => {
      counter.connected();
      socket.once('close', () => counter.disconnected());
    });
    return server;
  };
  (http as { createServer: unknown }).createServer = patched;
  try {
    return await start();
  } finally {
    (http as { createServer: unknown }).createServer = original;
  }
}

/** Peak resident set of a process in bytes: Linux's VmHWM (high-water mark since start), else `ps` now. */
export function peakRss(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux, or the process is gone: fall back to ps
  }
  try {
    const out = execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return out ? Number(out) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Samples a process's resident memory while it works, for systems without VmHWM. On Linux VmHWM already
 * holds the true peak; the sampler is the fallback and never lowers it.
 */
export class RssSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number, everyMs = 250) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private sample(): void {
    const v = peakRss(this.pid);
    if (v !== undefined && v > this.peak) this.peak = v;
  }

  stop(): number | undefined {
    clearInterval(this.timer);
    this.sample();
    return this.peak || undefined;
  }
}

/** Value at quantile q (0..1) of a list of numbers (nearest rank). */
export function percentile(values: number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ: 100 on every Linux build). */
const USER_HZ = 100;

/** CPU time (user + system) a process has used so far, in ms: /proc/<pid>/stat on Linux, else undefined. */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return undefined;
  }
}

/**
 * CPU used by the worker process (Node-RED or a baseline) and by this process (the sandbox and the demo
 * ERP) over one measured run. On a shared 2-core machine wall-clock throughput moves with the neighbours'
 * load; CPU ms per item does much less, and a process near 100 % of a core is the one that bounds a run.
 */
export interface CpuShare {
  /** ms of CPU per item in the worker process. */
  workerMsPerItem?: number;
  /** ms of CPU per item in the bench process (sandbox + demo ERP + the bench's own polling). */
  benchMsPerItem: number;
  /** Share of one core each used during the run (1 = a core busy all the time). */
  workerCores?: number;
  benchCores: number;
}

export class CpuMeter {
  private readonly bench0 = process.cpuUsage();
  private readonly worker0: number | undefined;
  private readonly t0 = now();

  /** `pid` undefined: the worker reports its own CPU (a baseline child) through `stop(items, workerMs)`. */
  constructor(private readonly pid?: number) {
    this.worker0 = pid === undefined ? undefined : cpuMsOf(pid);
  }

  stop(items: number, workerMs?: number): CpuShare {
    const wall = now() - this.t0;
    const b = process.cpuUsage(this.bench0);
    const benchMs = (b.user + b.system) / 1000;
    let worker = workerMs;
    if (worker === undefined && this.pid !== undefined && this.worker0 !== undefined) {
      const w1 = cpuMsOf(this.pid);
      if (w1 !== undefined) worker = w1 - this.worker0;
    }
    const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;
    return {
      workerMsPerItem: worker === undefined ? undefined : round(worker / items),
      benchMsPerItem: round(benchMs / items),
      workerCores: worker === undefined ? undefined : round(worker / wall, 2),
      benchCores: round(benchMs / wall, 2),
    };
  }
}

/** "CPU per order: Node-RED 0.61 ms (0.98 of a core), bench process 0.32 ms (0.52)". */
export function cpuText(c: CpuShare, worker: string, unit: string): string {
  const w = c.workerMsPerItem === undefined ? `${worker} –` : `${worker} ${c.workerMsPerItem.toFixed(3)} ms (${c.workerCores?.toFixed(2)} of a core)`;
  return `CPU per ${unit}: ${w}, bench process (sandbox + ERP) ${c.benchMsPerItem.toFixed(3)} ms (${c.benchCores.toFixed(2)} of a core)`;
}

export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Polls `check` until it returns a value. Fails when nothing moved for `stallMs` (progress() unchanged),
 * so a benchmark that will never finish says so instead of hanging, whatever its size.
 */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined> | T | undefined, options: {
  progress?: () => Promise<number> | number; stallMs?: number; intervalMs?: number; explain?: () => string | Promise<string>;
} = {}): Promise<T> {
  const stallMs = options.stallMs ?? 60_000;
  const intervalMs = options.intervalMs ?? 100;
  let last = options.progress ? await options.progress() : 0;
  let lastMoved = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && (value as unknown) !== false) return value;
    if (options.progress) {
      const p = await options.progress();
      if (p !== last) {
        last = p;
        lastMoved = Date.now();
      }
    }
    if (Date.now() - lastMoved > stallMs) {
      const detail = options.explain ? `\n${await options.explain()}` : '';
      throw new Error(`${what}: no progress for ${Math.round(stallMs / 1000)} s (at ${last})${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function getJson<T = unknown>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return (await res.json()) as T;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, text: await res.text() };
}
