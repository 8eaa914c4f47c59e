#!/usr/bin/env node
// Bundles what `npm run build` ships to be run, after tsc has checked the types and written
// dist/ (the .d.ts files, and the modules the bench's worker processes and the tests load):
//   dist/bundle/cli.cjs       the CLI, one CommonJS file, loaded by bin/mmapipc.js
//   dist/bundle/mmapipc.js    the library (package.json "exports"), one ES module
// A one-shot command's start is mostly loading code: one file instead of ~50 modules, and
// CommonJS, which needs no ES module loader. Commands' code stays in the file but runs only
// when its command does (esbuild turns program.ts's import() of a command into a call), and
// Node's own modules that only some paths use stay unloaded until used (see nodeOnDemand).
// (One file per command, the shared modules in a core file, measured no faster: V8 compiles a
// file lazily, function by function.)
//
// dist/bundle/ sits at the depth of dist/<folder>/, so that URLs the code makes relative to its
// own file (../../package.json, ../bench/worker.js) resolve alike from a bundle and from tsc's
// modules.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;

const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));

/** Packages left to Node: native code, and the bridge's engine clients (loaded only by the bridge). */
const external = ['ffi-rs', '@yuuang/*', '@nats-io/*', 'ioredis'];

/**
 * Node's modules that a start need not load:
 * - commander requires node:child_process when it loads (for subcommands that are executables,
 *   which mmapipc has none of), and that loads Node's net and stream code: about 3 ms of every
 *   start. Within commander, node:child_process becomes an object that requires it on first use.
 * - node:module is not loaded in a CommonJS process until asked for (and it loads the ES module
 *   loader): createRequire(import.meta.url) in src/sys is the bundle's own require.
 */
const nodeOnDemand = {
  name: 'node-on-demand',
  setup(bundler) {
    bundler.onResolve({ filter: /^node:module$/ }, (args) => ({ path: args.path, namespace: 'own-require' }));
    bundler.onLoad({ filter: /.*/, namespace: 'own-require' }, () => ({ contents: 'exports.createRequire = () => require;', loader: 'js' }));
    bundler.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: args.path, namespace: 'lazy-builtin' } : undefined,
    );
    bundler.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `let loaded; module.exports = new Proxy({}, { get: (_, key) => (loaded ??= require(${JSON.stringify(args.path)}))[key] });`,
      loader: 'js',
    }));
  },
};

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  external,
  // Whitespace and syntax only: names stay, so an internal error's stack still reads.
  minifyWhitespace: true,
  minifySyntax: true,
  // For `node --enable-source-maps`: stacks that name the TypeScript source.
  sourcemap: 'linked',
  logLevel: 'warning',
};

rmSync(outdir, { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir,
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  // The engines' clients are ES modules: keep import() for them rather than require().
  supported: { 'dynamic-import': true },
  // CommonJS has no import.meta: the file's own URL, from __filename.
  define: { 'import.meta.url': '__bundleUrl', MMAPIPC_VERSION: JSON.stringify(version) },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [nodeOnDemand],
});

await build({
  ...common,
  entryPoints: { mmapipc: 'src/index.ts' },
  outdir,
  format: 'esm',
});
