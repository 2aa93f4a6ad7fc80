'use strict';
// Runs a real Node-RED (node_modules/node-red/red.js) in a child process with a temp user directory that
// holds our gate, queue and webhook nodes, so a test can SIGKILL it and start it again on the same files.
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '../..');

/** `credentials`: per node id, as Node-RED keeps them in flows_cred.json (unencrypted here: credentialSecret false). */
function prepareUserDir(userDir, flow, env = {}, credentials) {
  const pkg = path.join(userDir, 'node_modules', 'magento-erp-under-test');
  fs.mkdirSync(pkg, { recursive: true });
  for (const [link, target] of [['idempotency-gate', 'dist/nodes/idempotency-gate'], ['retry-queue', 'dist/nodes/retry-queue'], ['webhook-in', 'dist/nodes/webhook-in']]) {
    const at = path.join(pkg, link);
    if (!fs.existsSync(at)) fs.symlinkSync(path.join(root, target), at, 'dir');
  }
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({
    name: 'magento-erp-under-test', version: '0.0.0',
    'node-red': { nodes: {
      'magento-idempotency-gate': 'idempotency-gate/idempotency-gate.js', 'magento-retry-queue': 'retry-queue/retry-queue.js',
      'magento-webhook-in': 'webhook-in/webhook-in.js',
    } },
  }));
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'crash-userdir', version: '0.0.0', dependencies: { 'magento-erp-under-test': '*' } }));
  fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = {
    uiPort: 0, uiHost: '127.0.0.1', flowFile: 'flows.json', credentialSecret: false,
    logging: { console: { level: 'info', metrics: false, audit: false } },
    editorTheme: { tours: false }, diagnostics: { enabled: false }, telemetry: { enabled: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    // A function node that delivers with its own request (and completes only once answered) gets http this way.
    functionGlobalContext: { http: require('http') },
  };`);
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow));
  if (credentials) fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(credentials));
  return env;
}

/** Starts Node-RED; resolves {child, port} once it listens and its flows are started. */
function startNodeRed(userDir, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'node_modules/node-red/red.js'), '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], {
      cwd: userDir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let started = false;
    // Kept reading after the start: what the flows log later (a replay, a warning) belongs to the log too.
    const onData = (chunk) => {
      out += chunk;
      if (started) return;
      const m = /Server now running at http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m && /Started flows/.test(out)) {
        started = true;
        resolve({ child, port: Number(m[1]), log: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => { out += c; });
    child.on('exit', (code, signal) => reject(new Error(`Node-RED exited (${code ?? signal}) before listening:\n${out.slice(-3000)}`)));
  });
}

function kill(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

module.exports = { prepareUserDir, startNodeRed, kill };
