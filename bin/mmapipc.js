#!/usr/bin/env node
// Runs the compiled CLI (built into dist/ by `npm install` / `npm ci`).
import { run } from '../dist/cli/main.js';

await run();
