/** Where the bench worker program is, for whoever starts one (without loading the transports). */
import { fileURLToPath } from 'node:url';

export const WORKER_PATH = fileURLToPath(new URL('./worker.js', import.meta.url));
