/** Where the bench worker program is, for whoever starts one (without loading the transports). */
import { fileURLToPath } from 'node:url';

// Through ../bench/: the same file from dist/bench/ (tsc's modules) and from dist/bundle/ (the CLI's bundle).
export const WORKER_PATH = fileURLToPath(new URL('../bench/worker.js', import.meta.url));
