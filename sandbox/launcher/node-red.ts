/**
 * Runs Node-RED for `npm start`: a project-local user directory with a generated settings file that loads
 * this package (as a module, like an installed one), the flow from `flows/` deployed with its store pointed
 * at the sandbox through environment variables, and a child process that cannot outlive the launcher.
 */
import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import path from 'path';

export const PACKAGE_NAME = 'node-red-contrib-magento-erp';

/** The package root (holds package.json and flows/), from dist/sandbox/launcher/ or sandbox/launcher/. */
export function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === PACKAGE_NAME) return dir;
      } catch {
        // not ours: keep looking up
      }
    }
    dir = path.dirname(dir);
  }
  throw new Error(`Cannot find the ${PACKAGE_NAME} package root above ${__dirname}`);
}

/** The full integration flow once it exists, else the placeholder. */
export const FLOW_FILES = ['magento-erp.json', 'sandbox-minimal.json'];

export interface FlowChoice {
  file: string;
  nodes: FlowNode[];
  /** Where the flow receives Magento's webhooks (a webhook-in node, else `POST /magento/webhook`): the sandbox's webhooks default to it. */
  webhookPath?: string;
  /** The webhook-in node checks `timestamp + "." + body` signatures: the sandbox must sign that way. */
  webhookSignTimestamp: boolean;
  /** The flow has the `/erp/...` endpoints: the demo ERP emits its changes to it on a timer. */
  receivesErpChanges: boolean;
}

export interface FlowNode {
  id: string;
  type: string;
  url?: string;
  method?: string;
  [key: string]: unknown;
}

export function chooseFlow(root: string): FlowChoice {
  for (const name of FLOW_FILES) {
    const file = path.join(root, 'flows', name);
    if (!fs.existsSync(file)) continue;
    let nodes: unknown;
    try {
      nodes = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`${path.relative(root, file)} is not valid JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(nodes)) throw new Error(`${path.relative(root, file)} must hold an array of nodes, as Node-RED exports it`);
    const flowNodes = nodes as FlowNode[];
    // A credential that is a value, not a reference, stops the start here, before anything runs.
    splitCredentials(file, flowNodes);
    const httpIn = flowNodes.filter((n) => n.type === 'http in' && n.d !== true);
    const webhookIn = flowNodes.find((n) => n.type === 'magento-webhook-in' && n.d !== true && typeof n.url === 'string' && n.url.trim() !== '');
    let webhookPath: string | undefined;
    if (webhookIn) webhookPath = '/' + String(webhookIn.url).trim().replace(/^\/+/, '');
    else if (httpIn.some((n) => n.method === 'post' && n.url === '/magento/webhook')) webhookPath = '/magento/webhook';
    return {
      file,
      nodes: flowNodes,
      webhookPath,
      webhookSignTimestamp: webhookIn?.scheme === 'timestamp.body',
      receivesErpChanges: httpIn.some((n) => n.url === '/erp/stock'),
    };
  }
  throw new Error(`No flow to deploy: flows/ holds none of ${FLOW_FILES.join(', ')}`);
}

/**
 * The store-config credentials as references to the MAGENTO_* variables, exactly as flows/magento-erp.json
 * and the examples carry them; Node-RED expands a credential that is `${NAME}` when the node starts.
 */
export const STORE_CREDENTIAL_ENV: Record<string, string> = {
  consumerKey: '${MAGENTO_CONSUMER_KEY}',
  consumerSecret: '${MAGENTO_CONSUMER_SECRET}',
  accessToken: '${MAGENTO_ACCESS_TOKEN}',
  accessTokenSecret: '${MAGENTO_ACCESS_TOKEN_SECRET}',
  token: '${MAGENTO_TOKEN}',
  username: '${MAGENTO_ADMIN_USER}',
  password: '${MAGENTO_ADMIN_PASSWORD}',
};

/**
 * References for a node of these types that carries no `credentials` in its flow file (Node-RED's export
 * leaves them out): the same ones the full flow carries, so any flow of ours runs from the environment.
 */
export const DEFAULT_CREDENTIAL_ENV: Record<string, Record<string, string>> = {
  'magento-store-config': STORE_CREDENTIAL_ENV,
  'magento-webhook-in': { secret: '${WEBHOOK_SECRET}' },
  'magento-erp-request': { token: '${ERP_TOKEN}' },
};

const ENV_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/**
 * Splits a flow file as Node-RED stores a flow: the nodes without their `credentials` (flows.json) and
 * the credentials by node id (flows_cred.json). Node-RED reads credentials of a flow on disk only from
 * the `_cred` file, so the references a flow file carries go there. Only `${NAME}` references are taken:
 * the launcher writes no secret to disk (settings.js has no credentialSecret).
 */
export function splitCredentials(file: string, nodes: FlowNode[]): { nodes: FlowNode[]; credentials: Record<string, Record<string, string>> } {
  const credentials: Record<string, Record<string, string>> = {};
  const bare = nodes.map((node) => {
    const { credentials: own, ...rest } = node;
    const references = (own ?? DEFAULT_CREDENTIAL_ENV[node.type]) as Record<string, unknown> | undefined;
    if (references && typeof references === 'object') {
      for (const [key, value] of Object.entries(references)) {
        if (typeof value !== 'string' || !ENV_REFERENCE.test(value)) {
          throw new Error(`${path.basename(file)}: credential "${key}" of ${node.type} node ${node.id} must be an \${ENV} reference (e.g. "\${WEBHOOK_SECRET}"), not a value`);
        }
      }
      credentials[node.id] = { ...(references as Record<string, string>) };
    }
    return rest as FlowNode;
  });
  return { nodes: bare, credentials };
}

export interface UserDirOptions {
  userDir: string;
  port: number;
  root: string;
  flow: FlowChoice;
  /** Keep flows.json from an earlier run (the user's editor changes) instead of deploying flows/ again. */
  keepFlows: boolean;
}

/** Writes settings.js, flows.json and flows_cred.json into the user directory; returns the settings path. */
export function prepareUserDir(options: UserDirOptions): { settingsFile: string; flowsFile: string; deployed: boolean } {
  const { userDir, root, flow } = options;
  fs.mkdirSync(userDir, { recursive: true });
  const settingsFile = path.join(userDir, 'settings.js');
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: options.port,
    flowFile: 'flows.json',
    flowFilePretty: true,
    // Credentials only hold ${ENV} references (see splitCredentials): nothing to encrypt.
    credentialSecret: false,
    // A directory with a package.json that declares node-red nodes is loaded as that module, so the
    // sandbox runs our nodes exactly as an installed package (message catalogs, examples included).
    nodesDir: [root],
    logging: { console: { level: 'info', metrics: false, audit: false } },
    telemetry: { enabled: false, updateNotification: false },
    editorTheme: { tours: false },
  };
  fs.writeFileSync(
    settingsFile,
    `// Generated by ${PACKAGE_NAME}'s npm start on every run; edit sandbox/launcher/node-red.ts instead.\n` +
      `module.exports = ${JSON.stringify(settings, null, 2)};\n`,
  );

  const flowsFile = path.join(userDir, 'flows.json');
  const credFile = path.join(userDir, 'flows_cred.json');
  const deployed = !(options.keepFlows && fs.existsSync(flowsFile));
  if (deployed) {
    const { nodes, credentials } = splitCredentials(flow.file, flow.nodes);
    fs.writeFileSync(flowsFile, JSON.stringify(nodes, null, 2));
    fs.writeFileSync(credFile, JSON.stringify(credentials, null, 2));
  }
  return { settingsFile, flowsFile, deployed };
}

export interface NodeRedProcess {
  child: ChildProcess;
  url: string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Asks Node-RED to stop its flows and exit; kills it if it has not after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Node-RED's command-line entry (`red.js`, its `bin`). Found through the resolver's search paths rather
 * than `require.resolve('node-red/red.js')` alone, which a package `exports` map may refuse.
 * `NODE_RED_BIN` points at another Node-RED (the compatibility run uses Node-RED 5 this way).
 */
export function nodeRedBin(): string {
  const chosen = process.env.NODE_RED_BIN;
  if (chosen) {
    if (!fs.existsSync(chosen)) throw new Error(`NODE_RED_BIN is set to ${chosen}, which does not exist`);
    return chosen;
  }
  try {
    return require.resolve('node-red/red.js');
  } catch {
    for (const dir of require.resolve.paths('node-red') ?? []) {
      const candidate = path.join(dir, 'node-red', 'red.js');
      if (fs.existsSync(candidate)) return candidate;
    }
  }
  throw new Error('Node-RED is not installed: run npm install (it is a devDependency of this package)');
}

export function spawnNodeRed(options: {
  userDir: string;
  settingsFile: string;
  port: number;
  env: NodeJS.ProcessEnv;
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
}): NodeRedProcess {
  const redJs = nodeRedBin();
  const guard = path.join(__dirname, 'parent-guard.js');
  const child = spawn(
    process.execPath,
    ['--require', guard, redJs, '--userDir', options.userDir, '--settings', options.settingsFile, '--port', String(options.port)],
    { env: options.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], windowsHide: true },
  );
  for (const stream of ['stdout', 'stderr'] as const) {
    let rest = '';
    child[stream]!.setEncoding('utf8');
    child[stream]!.on('data', (chunk: string) => {
      const lines = (rest + chunk).split(/\r?\n/);
      rest = lines.pop() ?? '';
      for (const line of lines) if (line !== '') options.onLine(line, stream);
    });
    child[stream]!.on('end', () => {
      if (rest !== '') options.onLine(rest, stream);
      rest = '';
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });

  async function stop(graceMs = 10_000): Promise<void> {
    if (gone) return;
    // Node-RED stops its flows on 'shutdown' (its PM2 hook) and on SIGTERM; the message also works on Windows.
    if (child.connected) child.send('shutdown', () => undefined);
    else child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([exited.then(() => undefined), killed]);
    clearTimeout(timer);
    await exited;
  }

  return { child, url: `http://127.0.0.1:${options.port}`, exited, stop };
}

/** Node-RED's node sets (`GET /nodes`, admin API). */
export interface NodeSet {
  id: string;
  name: string;
  types: string[];
  enabled: boolean;
  module: string;
  /** Why the set failed to load (a message, or a serialised error such as `{code: 'MODULE_NOT_FOUND'}`); absent when it loaded. */
  err?: string | { message?: string; code?: string };
}

/** A node set's load error in words. */
export function loadError(set: NodeSet): string | undefined {
  const err = set.err;
  if (err === undefined || err === null) return undefined;
  if (typeof err === 'string') return err;
  return err.message ?? (err.code === 'MODULE_NOT_FOUND' ? 'MODULE_NOT_FOUND: its file is missing (not built yet?)' : JSON.stringify(err));
}

/** The version the running Node-RED reports (admin API `GET /settings`). */
export async function nodeRedVersion(url: string): Promise<string | undefined> {
  const res = await fetch(`${url}/settings`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5000) });
  if (!res.ok) return undefined;
  const body = (await res.json()) as { version?: unknown };
  return typeof body.version === 'string' ? body.version : undefined;
}

export async function nodeSets(url: string): Promise<NodeSet[]> {
  const res = await fetch(`${url}/nodes`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET ${url}/nodes answered ${res.status}`);
  return (await res.json()) as NodeSet[];
}

/**
 * Waits until Node-RED answers its admin API — it listens only once every node is loaded — and returns
 * our module's node sets (empty if it was not found). Polls with a deadline; rejects early if the process exits.
 */
export async function waitForNodeRed(nodeRed: NodeRedProcess, timeoutMs = 60_000): Promise<NodeSet[]> {
  const deadline = Date.now() + timeoutMs;
  let exitedEarly = false;
  void nodeRed.exited.then(() => {
    exitedEarly = true;
  });
  let lastError = '';
  while (Date.now() < deadline) {
    if (exitedEarly) throw new Error('Node-RED exited while starting (see its output above)');
    try {
      return (await nodeSets(nodeRed.url)).filter((s) => s.module === PACKAGE_NAME);
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Node-RED was not ready after ${timeoutMs / 1000} s: ${lastError}`);
}
