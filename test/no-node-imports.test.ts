/**
 * The root entry (`anywire`) is runtime-neutral: nothing in its import graph, ours or a
 * dependency's, may import a Node builtin (`node:fs`, `http`, ...). esbuild walks the graph of the
 * built `dist/index.js` (what the package ships; `npm test` builds it first) and of `src/index.ts`,
 * with browser resolution, and a plugin records every builtin it meets instead of failing at the
 * first. The `anywire/http` subpath is Node-only and must show up as such, which proves the scan
 * sees builtins at all.
 */
import { existsSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { build } from 'esbuild';
import type { Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

/** Bundles `entry` for the browser; returns the builtins imported (`importer -> specifier`) and the graph. */
async function scan(entry: string): Promise<{ builtins: string[]; metafile: Metafile }> {
  const builtins: string[] = [];
  const out = await build({
    entryPoints: [entry],
    absWorkingDir: ROOT,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [
      {
        name: 'record-node-builtins',
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            if (!isBuiltin(args.path)) return undefined;
            builtins.push(`${args.importer.slice(ROOT.length)} -> ${args.path}`);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  return { builtins, metafile: out.metafile };
}

describe('no node: imports in the root entry', () => {
  it('dist/index.js imports no Node builtin, directly or through a dependency', async () => {
    if (!existsSync(`${ROOT}dist/index.js`))
      throw new Error('dist/index.js is missing: run `npm run build` first (`npm test` does)');
    const { builtins, metafile } = await scan('dist/index.js');
    expect(builtins).toEqual([]);
    const files = Object.keys(metafile.inputs);
    expect(files).toContain('dist/client/client.js');
    expect(files).toContain('dist/transports/streamable-http/client.js');
    expect(files.filter((f) => f.includes('http2-fetch') || f.endsWith('streamable-http/node.js'))).toEqual(
      [],
    );
  });

  it('src/index.ts imports no Node builtin either', async () => {
    expect((await scan('src/index.ts')).builtins).toEqual([]);
  });

  it('the scan sees builtins: anywire/http (Node-only) imports node:http2', async () => {
    const { builtins } = await scan('src/transports/streamable-http/index.ts');
    expect(builtins).toContain('src/transports/streamable-http/http2-fetch.ts -> node:http2');
  });

  it('a browser build fails on a node: import (what the browser test relies on)', async () => {
    const error = await build({
      stdin: { contents: "import { readFileSync } from 'node:fs'; console.log(readFileSync);", loader: 'ts' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    }).catch((e: { errors?: { text: string }[] }) => e);
    expect((error as { errors?: { text: string }[] }).errors?.[0]?.text).toMatch(/node:fs/);
  });
});
