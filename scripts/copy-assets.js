#!/usr/bin/env node
// Copies what tsc does not emit — each node's editor .html, icons/ and locales/ — next to the compiled .js
// under dist/, so Node-RED finds `<name>.html` beside `<name>.js` as it requires.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'nodes');
const out = path.join(root, 'dist', 'nodes');

function copyTree(from, to) {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const a = path.join(from, entry.name);
    const b = path.join(to, entry.name);
    if (entry.isDirectory()) {
      copyTree(a, b);
    } else if (!entry.name.endsWith('.ts')) {
      fs.mkdirSync(path.dirname(b), { recursive: true });
      fs.copyFileSync(a, b);
    }
  }
}

copyTree(src, out);
