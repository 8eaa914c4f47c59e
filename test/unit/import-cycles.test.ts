/**
 * Imports in src/ go one way: no module reaches itself again through its imports. Every import
 * counts, `import type` and dynamic `import()` included: a type-only cycle still ties two files
 * together, and a lazy one still runs.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
/** The specifier of `... from '...'` (import and export), `import '...'` and `import('...')`. */
const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** Each file's relative imports, resolved to the .ts files they name. */
function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    const targets = [...text.matchAll(IMPORT)]
      .map((match) => match[1]!)
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
    graph.set(file, targets);
  }
  return graph;
}

/** Every cycle found by a depth-first walk, each as the list of files from its start back to it. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    path.push(file);
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === 'open') cycles.push([...path.slice(path.indexOf(target)), target]);
      else if (!state.has(target)) visit(target);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

const show = (cycle: string[]) => cycle.map((file) => relative(SRC, file)).join(' -> ');

test('the checker sees every kind of import, and finds a cycle through type-only and lazy ones', () => {
  const dir = tempDir('mmapipc-cycles-');
  try {
    writeFileSync(dir.file('a.ts'), "import type { B } from './b.js';\nexport type A = B;\n");
    writeFileSync(dir.file('b.ts'), "export type B = 1;\nexport const load = () => import('./c.js');\n");
    writeFileSync(dir.file('c.ts'), "// import { x } from './d.js';  (a comment: not an import)\nexport { type A } from './a.js';\n");
    writeFileSync(dir.file('d.ts'), "import { parse } from 'commander';\nimport './a.js';\n");
    const graph = importGraph(dir.path);
    expect(graph.get(dir.file('d.ts'))).toEqual([dir.file('a.ts')]);
    expect(graph.get(dir.file('c.ts'))).toEqual([dir.file('a.ts')]);
    expect(findCycles(graph)).toEqual([[dir.file('a.ts'), dir.file('b.ts'), dir.file('c.ts'), dir.file('a.ts')]]);
    writeFileSync(dir.file('c.ts'), 'export const c = 3;\n');
    expect(findCycles(importGraph(dir.path))).toEqual([]);
  } finally {
    dir.remove();
  }
});

test('src/ has no import cycle', () => {
  expect(findCycles(importGraph(SRC)).map(show)).toEqual([]);
});
