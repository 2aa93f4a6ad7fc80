/**
 * `npm start`: the Magento sandbox, the demo ERP and Node-RED (our nodes, the flow from flows/ pointed at
 * the sandbox) in one process tree, stopped together by Ctrl-C. `npm run sandbox` (`--sandbox-only`):
 * the Magento sandbox and the demo ERP alone, e.g. for a Node-RED of your own.
 *
 * Options: --sandbox-only, --userdir <dir> (default .sandbox-userdir/), --keep-flows (keep the flows you
 * deployed from the editor in an earlier run instead of deploying flows/ again), --help.
 * Settings come from the environment: see sandbox/launcher/settings.ts and the README.
 */
import net from 'net';
import path from 'path';
import { startDemoErp, DemoErp } from './erp/index';
import { builtInCatalog, CatalogItem } from './erp/catalog';
import { readCatalog, RunningMagento, startMagento } from './launcher/magento';
import { FaultConfig, faultsFromEnv } from './magento/index';
import {
  chooseFlow, FlowChoice, loadError, nodeRedVersion, NodeRedProcess, packageRoot, prepareUserDir, spawnNodeRed, waitForNodeRed, PACKAGE_NAME,
} from './launcher/node-red';
import { describeSettings, readSettings, SandboxSettings, SettingsError, shownValue } from './launcher/settings';

interface Args {
  sandboxOnly: boolean;
  userDir?: string;
  keepFlows: boolean;
  help: boolean;
}

const USAGE = `Usage: node dist/sandbox/start.js [--sandbox-only] [--userdir <dir>] [--keep-flows]
  npm start          Magento sandbox + demo ERP + Node-RED with this package and the flow from flows/
  npm run sandbox    Magento sandbox + demo ERP only (--sandbox-only)
Settings: PORT, SANDBOX_MAGENTO_PORT, SANDBOX_ERP_PORT, SANDBOX_SEED, SANDBOX_ORDERS, SANDBOX_BEARER_TOKEN,
  SANDBOX_ADMIN_USER, SANDBOX_ADMIN_PASSWORD, SANDBOX_OAUTH_CONSUMER_KEY, SANDBOX_OAUTH_CONSUMER_SECRET,
  SANDBOX_OAUTH_ACCESS_TOKEN, SANDBOX_OAUTH_ACCESS_TOKEN_SECRET, SANDBOX_WEBHOOK_URL, SANDBOX_WEBHOOK_SECRET
  (see the README, "npm start and its settings").`;

/** Seconds between the demo ERP's stock/price/shipment emits when the flow has the /erp/ endpoints. */
const ERP_EMIT_SECONDS = 30;

function parseArgs(argv: string[]): Args {
  const args: Args = { sandboxOnly: false, keepFlows: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--sandbox-only') args.sandboxOnly = true;
    else if (a === '--keep-flows') args.keepFlows = true;
    else if (a === '--help' || a === '-h') args.help = true;
    else if (a === '--userdir' && argv[i + 1]) args.userDir = argv[++i];
    else if (a.startsWith('--userdir=')) args.userDir = a.slice('--userdir='.length);
    else throw new SettingsError([`unknown argument "${a}"`]);
  }
  return args;
}

/**
 * What Node-RED's flow reads (the names of the README's flow section), from the sandbox's effective values;
 * a variable the user already set is kept, so the same launcher can point the flow elsewhere.
 */
function nodeRedEnvironment(settings: SandboxSettings, magentoUrl: string, erpUrl: string): { env: NodeJS.ProcessEnv; shown: string[] } {
  const defaults: Array<[string, string, boolean]> = [
    ['MAGENTO_URL', magentoUrl, false],
    ['MAGENTO_STORE_CODE', 'default', false],
    ['MAGENTO_AUTH', 'oauth1', false],
    ['MAGENTO_TOKEN', settings.bearerToken, true],
    ['MAGENTO_CONSUMER_KEY', settings.oauth.consumerKey, false],
    ['MAGENTO_CONSUMER_SECRET', settings.oauth.consumerSecret, true],
    ['MAGENTO_ACCESS_TOKEN', settings.oauth.accessToken, true],
    ['MAGENTO_ACCESS_TOKEN_SECRET', settings.oauth.accessTokenSecret, true],
    ['MAGENTO_ADMIN_USER', settings.adminUser, false],
    ['MAGENTO_ADMIN_PASSWORD', settings.adminPassword, true],
    ['ERP_URL', erpUrl, false],
    ['WEBHOOK_SECRET', settings.webhookSecret, true],
    ['ORDER_POLL_SECONDS', '15', false],
    ['MSI_DEFAULT_SOURCE', 'default', false],
  ];
  const env: NodeJS.ProcessEnv = { ...process.env };
  const fromUser = new Set<string>();
  // A sandbox value the user set through SANDBOX_* counts as theirs too: never shown.
  const sandboxSecretFromUser: Record<string, string> = {
    MAGENTO_TOKEN: 'SANDBOX_BEARER_TOKEN',
    MAGENTO_CONSUMER_SECRET: 'SANDBOX_OAUTH_CONSUMER_SECRET',
    MAGENTO_ACCESS_TOKEN: 'SANDBOX_OAUTH_ACCESS_TOKEN',
    MAGENTO_ACCESS_TOKEN_SECRET: 'SANDBOX_OAUTH_ACCESS_TOKEN_SECRET',
    MAGENTO_ADMIN_PASSWORD: 'SANDBOX_ADMIN_PASSWORD',
    WEBHOOK_SECRET: 'SANDBOX_WEBHOOK_SECRET',
  };
  for (const [name, value] of defaults) {
    if (process.env[name] !== undefined && process.env[name] !== '') fromUser.add(name);
    else {
      env[name] = value;
      if (settings.fromEnv.has(sandboxSecretFromUser[name])) fromUser.add(name);
    }
  }
  const width = Math.max(...defaults.map(([n]) => n.length));
  const shown = defaults.map(([name, , secret]) => {
    const value = env[name];
    const text = fromUser.has(name)
      ? secret ? 'set (hidden)' : `${value}  (from environment)`
      : shownValue(name, value, new Set(), secret).replace('(default', '(sandbox');
    return `${name.padEnd(width)}  ${text}`;
  });
  if (process.env.ERP_TOKEN) shown.push(`${'ERP_TOKEN'.padEnd(width)}  set (hidden; the demo ERP requires it)`);
  return { env, shown };
}

/** A path as the user reads it: relative to the checkout when inside it. */
function shownPath(root: string, file: string): string {
  const rel = path.relative(root, file);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

/** Node-RED only logs "port in use" and exits: check PORT first so the message names the setting. */
function assertPortFree(port: number, variable: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err) => reject(portHint(err, variable, port)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

function portHint(err: unknown, variable: string, port: number): Error {
  const e = err as NodeJS.ErrnoException;
  if (e && e.code === 'EADDRINUSE') return new Error(`${variable} ${port} is already in use: stop what uses it or set ${variable} to a free port`);
  if (e && e.code === 'EACCES') return new Error(`${variable} ${port} needs privileges to listen on: choose a port above 1023`);
  return e instanceof Error ? e : new Error(String(e));
}

async function main(): Promise<number> {
  let args: Args;
  let settings: SandboxSettings;
  let faults: FaultConfig | undefined;
  try {
    args = parseArgs(process.argv.slice(2));
    if (args.help) {
      console.log(USAGE);
      return 0;
    }
    settings = readSettings();
    try {
      faults = faultsFromEnv(process.env);
    } catch (err) {
      throw new SettingsError([`SANDBOX_FAULTS / SANDBOX_LATENCY_MS: ${(err as Error).message} (see the README, "Magento sandbox")`]);
    }
  } catch (err) {
    if (err instanceof SettingsError) {
      console.error(`${err.message}\n\n${USAGE}`);
      return 1;
    }
    throw err;
  }

  const root = packageRoot();
  const userDir = path.resolve(args.userDir ?? path.join(root, '.sandbox-userdir'));
  const nodeRedUrl = `http://127.0.0.1:${settings.port}`;
  let flow: FlowChoice | undefined;
  if (!args.sandboxOnly) flow = chooseFlow(root);
  const webhookUrl = settings.webhookUrl ?? (flow?.webhookPath ? nodeRedUrl + flow.webhookPath : undefined);

  let magento: RunningMagento | undefined;
  let erp: DemoErp | undefined;
  let nodeRed: NodeRedProcess | undefined;
  let nodeRedRuntime = '';
  let stopping: Promise<void> | undefined;

  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      await nodeRed?.stop();
      await erp?.close();
      await magento?.close();
    })();
    return stopping;
  };

  let exitCode = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const shutdown = (code: number, why: string) => {
    if (stopping) {
      // A second Ctrl-C: stop waiting for a clean stop.
      nodeRed?.child.kill('SIGKILL');
      process.exit(code || 130);
    }
    exitCode = code;
    console.log(`\n${why}: stopping Node-RED, the demo ERP and the Magento sandbox…`);
    void stopAll().then(resolveDone, (err) => {
      console.error(`While stopping: ${(err as Error).message}`);
      exitCode = 1;
      resolveDone();
    });
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => shutdown(0, signal));

  try {
    if (flow) await assertPortFree(settings.port, 'PORT');
    try {
      magento = await startMagento(settings, { url: webhookUrl, signTimestamp: flow?.webhookSignTimestamp ?? false }, faults);
    } catch (err) {
      throw portHint(err, 'SANDBOX_MAGENTO_PORT', settings.magentoPort);
    }
    if (stopping) return (await done, exitCode);

    let catalog: CatalogItem[];
    let sources: string[] | undefined;
    try {
      ({ catalog, sources } = await readCatalog(magento.url, settings.bearerToken));
    } catch (err) {
      console.warn(`Could not read the sandbox catalogue for the demo ERP (${(err as Error).message}); it starts from its built-in one.`);
      catalog = builtInCatalog(settings.seed);
    }
    try {
      erp = await startDemoErp({
        port: settings.erpPort,
        host: '127.0.0.1',
        seed: settings.seed,
        token: process.env.ERP_TOKEN || undefined,
        catalog,
        sources,
        integrationUrl: nodeRedUrl,
        emitEverySeconds: flow?.receivesErpChanges ? ERP_EMIT_SECONDS : 0,
      });
    } catch (err) {
      throw portHint(err, 'SANDBOX_ERP_PORT', settings.erpPort);
    }
    if (stopping) return (await done, exitCode);

    let childEnvShown: string[] = [];
    if (flow) {
      const { env, shown } = nodeRedEnvironment(settings, magento.url, erp.url);
      childEnvShown = shown;
      const prepared = prepareUserDir({ userDir, port: settings.port, root, flow, keepFlows: args.keepFlows });
      nodeRed = spawnNodeRed({
        userDir,
        settingsFile: prepared.settingsFile,
        port: settings.port,
        env,
        onLine: (line, stream) => (stream === 'stderr' ? process.stderr : process.stdout).write(`[node-red] ${line}\n`),
      });
      void nodeRed.exited.then(({ code, signal }) => {
        if (!stopping) shutdown(1, `Node-RED exited on its own (code ${code ?? '-'}${signal ? `, ${signal}` : ''})`);
      });
      const sets = await waitForNodeRed(nodeRed).catch((err) => {
        throw new Error(`${(err as Error).message}. Is PORT ${settings.port} free?`);
      });
      if (stopping) return (await done, exitCode);
      nodeRedRuntime = `Node-RED ${(await nodeRedVersion(nodeRed.url).catch(() => undefined)) ?? '(version unknown)'} on Node ${process.version}`;
      const broken = sets.filter((s) => loadError(s) || s.enabled === false);
      if (sets.length === 0) console.warn(`Node-RED did not find ${PACKAGE_NAME}: was it built (npm run build)?`);
      for (const s of broken) console.warn(`Node-RED could not load ${s.id}: ${loadError(s) ?? 'disabled'}`);
      console.log(
        `Flow: ${shownPath(root, flow.file)} deployed to ${shownPath(root, prepared.flowsFile)}` +
          (prepared.deployed ? ' (deployed again at every start; --keep-flows keeps editor changes)' : ' (kept from the last run: --keep-flows)'),
      );
      if (flow.file.endsWith('sandbox-minimal.json')) {
        console.log('      This is the placeholder flow: it reads the latest sandbox orders into the debug sidebar, nothing more.');
      }
    }

    const lines = [
      '',
      args.sandboxOnly ? 'Magento sandbox and demo ERP are running:' : 'Magento sandbox, demo ERP and Node-RED are running:',
    ];
    if (nodeRed) lines.push(`  Node-RED         ${nodeRed.url}  (${nodeRedRuntime}, pid ${nodeRed.child.pid}, user directory ${shownPath(root, userDir)})`);
    lines.push(`  Magento sandbox  ${magento.url}  (REST ${magento.url}/rest/default/V1/…, control ${magento.url}/__sandbox/)`);
    lines.push(`  Demo ERP         ${erp.url}  (GET /orders, /stock, /prices, /shipments; control ${erp.url}/__erp/)`);
    lines.push('', 'Settings (environment variable, value in effect):', ...describeSettings(settings, webhookUrl).map((l) => `  ${l}`));
    lines.push(`  ${'SANDBOX_FAULTS'.padEnd(33)}  ${faults ? `${JSON.stringify(faults)}  (from environment)` : 'none (switch faults on with POST /__sandbox/faults)'}`);
    if (childEnvShown.length > 0) lines.push('', 'Node-RED flow environment:', ...childEnvShown.map((l) => `  ${l}`));
    lines.push('', 'Ctrl-C stops everything.');
    console.log(lines.join('\n'));
  } catch (err) {
    if (stopping) {
      // Ctrl-C while starting: what failed was the stop itself, not a problem to report.
      await done;
      return exitCode;
    }
    console.error(`Cannot start: ${(err as Error).message}`);
    await stopAll();
    return 1;
  }
  await done;
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
