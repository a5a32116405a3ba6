/**
 * The dependency direction of the layers (house style): `jsonrpc` imports nothing of ours;
 * `protocol` only `jsonrpc`; `telemetry` only those two; server and client only the layers below; bindings never import each
 * other (shared pieces live in `transports/shared`); nothing imports `cli`; the root entry reaches no
 * `node:` module (checked on the built bundle in no-node-imports.test.ts).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const SRC = join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Our own imports of a file, as paths relative to src/. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from '(\.{1,2}\/[^']+)'/g)].map((m) => relative(SRC, join(file, '..', m[1]!)));
}

const layer = (p: string) => p.split('/')[0]!;
const binding = (p: string) => (p.startsWith('transports/') ? p.split('/')[1] : undefined);

it('layers import only downwards and bindings never import each other', () => {
  const allowed: Record<string, string[]> = {
    jsonrpc: ['jsonrpc'],
    protocol: ['jsonrpc', 'protocol'],
    server: ['jsonrpc', 'protocol', 'telemetry', 'server'],
    client: ['jsonrpc', 'protocol', 'telemetry', 'client'],
    bridge: ['jsonrpc', 'protocol', 'telemetry', 'server', 'bridge'],
    telemetry: ['jsonrpc', 'protocol', 'telemetry'],
  };
  const problems: string[] = [];
  for (const f of files(SRC)) {
    const from = relative(SRC, f);
    for (const to of imports(f)) {
      if (layer(to) === 'cli' && layer(from) !== 'cli') problems.push(`${from} imports the CLI (${to})`);
      const ok = allowed[layer(from)];
      if (ok && !ok.includes(layer(to))) problems.push(`${from} -> ${to}`);
      const a = binding(from);
      const b = binding(to);
      if (a && b && a !== b && b !== 'shared')
        problems.push(`binding ${a} imports binding ${b}: ${from} -> ${to}`);
    }
  }
  expect(problems).toEqual([]);
});

/** The strongly connected components of more than one file (or a file importing itself). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

it('src/ has no import cycles (type-only imports included)', () => {
  const graph = new Map<string, string[]>();
  for (const f of files(SRC)) {
    graph.set(
      relative(SRC, f),
      imports(f).map((p) => p.replace(/\.js$/, '.ts')),
    );
  }
  expect(cycles(graph)).toEqual([]);
});
