#!/usr/bin/env node
// Summarises V8 .cpuprofile files (from node --cpu-prof): the functions with the most self time.
//   node bench/profile-summary.mjs <dir or files...> [--top N]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const args = process.argv.slice(2);
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args.splice(topIndex, 2)[1]) : 15;
const files = args.filter((arg) => arg !== '--callers').flatMap((arg) =>
  statSync(arg).isDirectory() ? readdirSync(arg).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(arg, f)) : [arg],
);
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  // Self time from the sample stream: each sample's delta belongs to the node it hit.
  profile.samples.forEach((id, i) => {
    const node = byNode.get(id);
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${relative(process.cwd(), url.replace('file://', ''))}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((sum, us) => sum + us, 0);
  console.log(`\n${file}: ${(total / 1000).toFixed(0)} ms sampled`);
  const rows = [...self.entries()].sort((x, y) => y[1] - x[1]).slice(0, top);
  for (const [key, us] of rows) console.log(`  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
}

// With --callers, also show which call paths lead to the hottest function of each profile.
if (process.argv.includes('--callers')) {
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8'));
    const parent = new Map();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
    const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
    const paths = new Map();
    const hot = new Map();
    profile.samples.forEach((id, i) => {
      const name = byNode.get(id).callFrame.functionName;
      hot.set(name, (hot.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
    });
    const hottest = [...hot.entries()].filter(([name]) => name && !name.startsWith('(')).sort((x, y) => y[1] - x[1])[0]?.[0];
    profile.samples.forEach((id, i) => {
      let node = byNode.get(id);
      if (node.callFrame.functionName !== hottest) return;
      const chain = [];
      for (let up = parent.get(node.id); up && chain.length < 6; up = parent.get(up.id)) chain.push(up.callFrame.functionName || '(anonymous)');
      const key = chain.join(' < ');
      paths.set(key, (paths.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
    });
    console.log(`\n${file}: callers of ${hottest}`);
    for (const [key, us] of [...paths.entries()].sort((x, y) => y[1] - x[1]).slice(0, 8)) console.log(`  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
  }
}
