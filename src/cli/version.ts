/** mmapipc's version: put in by scripts/bundle.mjs when it bundles the CLI, else read from package.json. */
import { readFileSync } from 'node:fs';

declare const MMAPIPC_VERSION: string | undefined;

export const VERSION: string =
  typeof MMAPIPC_VERSION === 'string'
    ? MMAPIPC_VERSION
    : (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
