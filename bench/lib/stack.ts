/**
 * The systems a benchmark runs against, all on loopback: the Magento sandbox and the demo ERP in this
 * process (their requests counted where they arrive), and a real Node-RED process per measured flow,
 * started with the launcher's own helpers (user directory, generated settings, spawn, readiness) so the
 * nodes load exactly as an installed package. A fresh Node-RED per flow: its peak RSS belongs to that flow.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { startMagentoSandbox, type MagentoSandbox } from '../../sandbox/magento';
import { startDemoErp, type DemoErp } from '../../sandbox/erp';
import { readCatalog } from '../../sandbox/launcher/magento';
import {
  loadError, packageRoot, prepareUserDir, spawnNodeRed, waitForNodeRed, type FlowNode, type NodeRedProcess,
} from '../../sandbox/launcher/node-red';
import { profileDir, type ProfileCommand } from './cpu-profile';
import { getJson, peakRss, RequestCounter, RssSampler, waitUntil, withRequestCounter } from './measure';

export const ROOT = packageRoot();

export interface Backends {
  magento: MagentoSandbox;
  erp: DemoErp;
  magentoCalls: RequestCounter;
  erpCalls: RequestCounter;
  token: string;
  close(): Promise<void>;
}

/** Paths counted apart at the sandbox: order reads, stock and price writes, bulk status polls. */
const MAGENTO_PATHS = ['/V1/orders', '/inventory/source-items', '/products/base-prices', '/bulk/'];

export async function startBackends(options: { orders: number; seed: number }): Promise<Backends> {
  const magentoCalls = new RequestCounter(MAGENTO_PATHS);
  const erpCalls = new RequestCounter(['/orders']);
  const magento = await withRequestCounter(magentoCalls, () => startMagentoSandbox({
    port: 0, host: '127.0.0.1', seed: options.seed, orders: options.orders, maxRecordedRequests: 1_000,
  }));
  try {
    const { catalog, sources } = await readCatalog(magento.url, magento.credentials.bearerToken);
    const erp = await withRequestCounter(erpCalls, () => startDemoErp({
      port: 0, host: '127.0.0.1', seed: options.seed, catalog, sources, recordLimit: 1_000,
    }));
    return {
      magento, erp, magentoCalls, erpCalls, token: magento.credentials.bearerToken,
      async close() {
        await erp.close();
        await magento.close();
      },
    };
  } catch (err) {
    await magento.close();
    throw err;
  }
}

/** Variables of the machine that the flows read: none may leak in from the shell running the bench. */
const FLOW_ENV = /^(MAGENTO_|SANDBOX_|ERP_|WEBHOOK_|BENCH_|NODE_RED_|PORT$)/;

export interface BenchNodeRed {
  url: string;
  pid: number;
  logs: string[];
  /** Peak RSS so far (VmHWM on Linux; sampled elsewhere). */
  peakRss(): number | undefined;
  /** Global context counters the bench flows keep (`GET /bench/stats`). */
  stats<T = Record<string, number>>(): Promise<T>;
  inject(nodeId: string): Promise<void>;
  /** With BENCH_CPU_PROF: starts Node-RED's CPU profile (else nothing). */
  profileStart(): void;
  /** With BENCH_CPU_PROF: writes Node-RED's CPU profile to `<dir>/<label>-node-red.cpuprofile`. */
  profileStop(): Promise<void>;
  stop(): Promise<void>;
}

export interface NodeRedRun {
  /** Flow file under bench/flows/ (name only). */
  flow: string;
  /** Changes to nodes by id before deploying (e.g. a push mode), so one file serves several variants. */
  overrides?: Record<string, Record<string, unknown>>;
  env: Record<string, string>;
  /** Credentials by node id (webhook-in's secret has no ${ENV} form). Store configs get ${MAGENTO_*} references. */
  credentials?: Record<string, Record<string, string>>;
  /** Names the CPU profile with BENCH_CPU_PROF (default: the flow file's name). */
  label?: string;
  /** V8 old-generation size in MB (`--max-old-space-size`, the bench's `--node-red-heap`); 0 or absent: V8's default. */
  heapMb?: number;
  /** More Node options, e.g. `--v8-pool-size` (options.ts `v8Flags`). */
  nodeFlags?: string[];
}

export function loadFlow(name: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'bench', 'flows', name), 'utf8')) as FlowNode[];
}

export async function startNodeRed(run: NodeRedRun): Promise<BenchNodeRed> {
  const nodes = loadFlow(run.flow);
  for (const [id, changes] of Object.entries(run.overrides ?? {})) {
    const node = nodes.find((n) => n.id === id);
    if (!node) throw new Error(`${run.flow}: no node ${id} to override`);
    Object.assign(node, changes);
  }
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'magento-erp-bench-'));
  const file = path.join(ROOT, 'bench', 'flows', run.flow);
  const prepared = prepareUserDir({
    userDir, port: 0, root: ROOT, keepFlows: false,
    flow: { file, nodes, webhookSignTimestamp: false, receivesErpChanges: false },
  });
  if (run.credentials) {
    const credFile = path.join(userDir, 'flows_cred.json');
    const creds = JSON.parse(fs.readFileSync(credFile, 'utf8')) as Record<string, Record<string, string>>;
    Object.assign(creds, run.credentials);
    fs.writeFileSync(credFile, JSON.stringify(creds, null, 2));
  }
  // The hand-built webhook flow computes its HMAC in a function node: `global.get('crypto')` is how a
  // user gives a function node a core module without enabling external modules.
  const text = fs.readFileSync(prepared.settingsFile, 'utf8').replace('module.exports = ', 'const settings = ');
  fs.writeFileSync(prepared.settingsFile, `${text}
settings.functionGlobalContext = { crypto: require('crypto') };
module.exports = settings;
`);

  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!FLOW_ENV.test(k)) env[k] = v;
  Object.assign(env, run.env);
  // e.g. BENCH_NODE_RED_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" to see where Node-RED spends its time.
  const nodeOptions = [run.heapMb ? `--max-old-space-size=${run.heapMb}` : '', ...(run.nodeFlags ?? []), process.env.BENCH_NODE_RED_OPTIONS ?? ''].join(' ').trim();
  if (nodeOptions) env.NODE_OPTIONS = nodeOptions;
  // BENCH_CPU_PROF=<dir>: a profile of the measured window only (Node refuses --cpu-prof in NODE_OPTIONS).
  const profDir = profileDir();
  const profFile = profDir ? path.resolve(profDir, `${run.label ?? run.flow.replace(/\.json$/, '')}-node-red.cpuprofile`) : undefined;
  if (profFile) {
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${path.join(__dirname, 'cpu-profile.js')}`.trim();
    env.BENCH_CPU_PROF_FILE = profFile;
    if (process.env.BENCH_HEAP_PROF) env.BENCH_HEAP_PROF = process.env.BENCH_HEAP_PROF;
    fs.rmSync(profFile, { force: true });
  }
  const logs: string[] = [];
  const proc: NodeRedProcess = spawnNodeRed({
    userDir, settingsFile: prepared.settingsFile, port: 0, env,
    onLine: (line, stream) => {
      logs.push(`${stream}: ${line}`);
      if (logs.length > 2_000) logs.splice(0, 1_000);
      if (process.env.BENCH_VERBOSE) console.error(`[node-red] ${line}`);
    },
  });
  const pid = proc.child.pid!;
  const sampler = new RssSampler(pid, 500);
  const cleanup = async (): Promise<void> => {
    sampler.stop();
    await proc.stop(15_000);
    fs.rmSync(userDir, { recursive: true, force: true });
  };
  try {
    // Port 0: Node-RED takes a free port and logs it (a port picked here could be taken meanwhile).
    const url = await waitUntil('Node-RED to listen', () => {
      if (proc.child.exitCode !== null) throw new Error(`Node-RED exited while starting:\n${logs.slice(-30).join('\n')}`);
      for (const l of logs) {
        const m = /Server now running at (http:\/\/127\.0\.0\.1:\d+)/.exec(l);
        if (m) return m[1];
      }
      return undefined;
    }, { stallMs: 120_000 });
    const sets = await waitForNodeRed({ ...proc, url }, 120_000);
    const broken = sets.filter((s) => loadError(s)).map((s) => `${s.id}: ${loadError(s)}`);
    if (broken.length) throw new Error(`Node-RED could not load: ${broken.join('; ')}`);
    await waitUntil('Node-RED to start the flows', () => logs.some((l) => /Started flows/.test(l)) || undefined, {
      stallMs: 60_000, explain: () => logs.slice(-30).join('\n'),
    });
    const problems = logs.filter((l) => /\[(error)\]/.test(l));
    if (problems.length) throw new Error(`Node-RED reported errors while starting ${run.flow}:\n${problems.join('\n')}`);
    return {
      url,
      pid,
      logs,
      peakRss: () => {
        const sampled = sampler.stop();
        const hwm = peakRss(pid);
        return Math.max(hwm ?? 0, sampled ?? 0) || undefined;
      },
      stats: <T>() => getJson<T>(`${url}/bench/stats`),
      async inject(nodeId: string) {
        const res = await fetch(`${url}/inject/${nodeId}`, { method: 'POST', signal: AbortSignal.timeout(15_000) });
        if (res.status !== 200) throw new Error(`POST /inject/${nodeId} answered ${res.status}`);
      },
      profileStart() {
        if (profFile) proc.child.send({ benchCpuProfile: 'start' } satisfies ProfileCommand);
      },
      async profileStop() {
        if (!profFile) return;
        proc.child.send({ benchCpuProfile: 'stop' } satisfies ProfileCommand);
        await waitUntil('Node-RED to write its CPU profile', () => fs.existsSync(profFile) || undefined, { stallMs: 30_000 });
      },
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Node-RED's warnings and errors during a run (a benchmark whose flow complained is not a result). */
export function problemLines(nodeRed: BenchNodeRed): string[] {
  // Two warnings every generated user directory gets are not about the flow.
  return nodeRed.logs.filter((l) => /\[(error|warn)\]/.test(l) && !/Projects disabled|Using unencrypted credentials/.test(l));
}
