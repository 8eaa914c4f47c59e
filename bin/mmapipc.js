#!/usr/bin/env node
// Runs the CLI, bundled into dist/bundle/cli.cjs by `npm run build`. CommonJS (bin/package.json
// says so), like the bundle: a start that needs no ES module loader is a few ms shorter.
'use strict';
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // Answered before anything else loads: scripts call it to probe for the tool.
  require('node:fs').writeSync(1, `${require('../package.json').version}\n`);
} else {
  // Until the program has loaded and installed its own handlers, remember a SIGINT/SIGTERM/SIGHUP
  // rather than die by it (the program then exits with 128 + the signal number).
  globalThis.mmapipcEarlyHandler = (signal) => (globalThis.mmapipcEarlySignal ??= signal);
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(name, globalThis.mmapipcEarlyHandler);
  let cli;
  try {
    cli = require('../dist/bundle/cli.cjs');
  } catch (error) {
    // A clone that was never built (npm ci runs no build): say so instead of a stack trace.
    if (error?.code !== 'MODULE_NOT_FOUND' || !String(error.message).includes('dist/bundle/cli.cjs')) throw error;
    process.stderr.write('mmapipc: dist/ is not built; run `npm run build` in the clone first\n');
    process.exit(1);
  }
  void cli.run();
}
