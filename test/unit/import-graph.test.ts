import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// This file runs as dist/test/unit/import-graph.test.js; the sources are three levels up.
const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

/** The folder of src/ a file belongs to: src/cli/commands/run.ts is in cli. */
const folderOf = (file: string): string => relative(SRC, file).split('/')[0]!;

/** Which folders each folder of src/ imports from (static and dynamic relative imports). */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sources(SRC)) {
    const from = folderOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const m of readFileSync(file, 'utf8').matchAll(
      /(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g,
    )) {
      const to = folderOf(resolve(dirname(file), m[1]!));
      if (to !== from) edges.add(to);
    }
  }
  return graph;
}

/** A cycle of folders, as a path that ends where it starts, or null. */
function findCycle(graph: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

test('the folders of src/ depend one way: no cycle between them', () => {
  const graph = folderGraph();
  assert.ok(graph.size >= 7, `found only ${[...graph.keys()].join(', ')}`);
  assert.equal(findCycle(graph)?.join(' → ') ?? null, null);
});

test('core imports neither the command line nor the reporters (README, "How it is put together")', () => {
  const core = folderGraph().get('core')!;
  assert.ok(!core.has('cli') && !core.has('report'), [...core].join(', '));
});

test('the cycle finder finds a cycle when there is one', () => {
  const graph = new Map([
    ['a', new Set(['b'])],
    ['b', new Set(['c'])],
    ['c', new Set(['a'])],
  ]);
  assert.deepEqual(findCycle(graph), ['a', 'b', 'c', 'a']);
});
