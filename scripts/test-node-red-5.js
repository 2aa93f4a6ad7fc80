#!/usr/bin/env node
// Compatibility run: the end-to-end suite on Node-RED 5 under Node 22 (Node-RED 5 needs Node >= 22.9 and
// loads node files with import()). Node-RED 5 is installed into .cache/node-red-5 (outside the project's
// own dependencies, which stay on 4.1) and the Node 22 binary comes from the npm registry through npx.
// The tests start Node-RED with `process.execPath` (Node 22 here) and `NODE_RED_BIN` (Node-RED 5).
'use strict';
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const version = process.env.NODE_RED_5_VERSION || '5';
const nodeVersion = process.env.NODE_22_VERSION || '22';
const prefix = path.join(root, '.cache', 'node-red-5');
const redJs = path.join(prefix, 'node_modules', 'node-red', 'red.js');
const suites = process.argv.slice(2).length ? process.argv.slice(2) : [
  'test/sandbox/start.test.js',
  'test/e2e/full-flow.test.js',
  'test/e2e/examples.test.js',
  'test/e2e/webhook-auth.test.js',
];

if (!fs.existsSync(redJs)) {
  fs.mkdirSync(prefix, { recursive: true });
  fs.writeFileSync(path.join(prefix, 'package.json'), JSON.stringify({ name: 'node-red-5-compat', private: true }));
  console.log(`compat: installing node-red@${version} into ${path.relative(root, prefix)}`);
  execFileSync('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--no-save', `node-red@${version}`], { stdio: 'inherit' });
}
const installed = require(path.join(prefix, 'node_modules', 'node-red', 'package.json')).version;
console.log(`compat: Node-RED ${installed} on node@${nodeVersion}: ${suites.join(' ')}`);

const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
const run = spawnSync('npx', ['-y', '-p', `node@${nodeVersion}`, 'node', mocha, '--no-config', '--timeout', '180000', '--exit', ...suites], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_RED_BIN: redJs },
});
process.exit(run.status === null ? 1 : run.status);
