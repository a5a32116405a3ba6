/**
 * The transpile cache of `anywire serve x.ts` serves what the sources say now: a change to the
 * tsconfig.json mapping a bare import (or to the file it extends), a nearer tsconfig.json, a
 * nearer copy of a package, or a file that now takes precedence for a relative import each rebuild
 * the compiled module. Each project has its own temp dir and
 * ANYWIRE_CACHE_DIR. Uses the build in dist/.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { anywire } from './cli-run.js';
import { ROOT } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'anywire-transpile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const requests = [
  {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  },
  { jsonrpc: '2.0', method: 'notifications/initialized' },
  { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'which', arguments: {} } },
]
  .map((m) => `${JSON.stringify(m)}\n`)
  .join('');

/** Serves `module` on stdio for one `which` call; returns its text. */
async function which(module: string, cache: string): Promise<string> {
  const r = await anywire(['serve', module], { input: requests, env: { ANYWIRE_CACHE_DIR: cache } });
  const line = r.stdout.split('\n').find((l) => l.includes('"id":2'));
  if (!line)
    throw new Error(`anywire serve ${module} (exit ${r.code}) did not answer: ${r.stdout}${r.stderr}`);
  return (JSON.parse(line) as { result: { content: { text: string }[] } }).result.content[0]!.text;
}

const write = (path: string, text: string) => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
};
const tsconfig = (target: string, extra: object = {}) =>
  JSON.stringify({ compilerOptions: { paths: { greeting: [target] } }, ...extra });
const pkg = (root: string, version: string) => {
  write(
    join(root, 'package.json'),
    JSON.stringify({ name: 'pkg', version, type: 'module', main: 'index.js' }),
  );
  write(join(root, 'index.js'), `export const version = ${JSON.stringify(version)};\n`);
};

it('a tsconfig mapping changed, a nearer tsconfig or package added: the new output is served', async () => {
  const project = mkdtempSync(join(dir, 'project-'));
  const cache = join(project, '.cache');
  const server = join(project, 'app/server.ts');
  for (const name of ['a', 'b', 'c'])
    write(join(project, `${name}.ts`), `export const greeting: string = 'from ${name}';\n`);
  write(join(project, 'tsconfig.json'), tsconfig('./a.ts'));
  pkg(join(project, 'node_modules/pkg'), '1.0.0');
  write(join(project, 'app/suffix.ts'), `export const suffix: string = '';\n`);
  write(
    server,
    `import { McpServer } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/index.js')).href)};
import { greeting } from 'greeting';
import { version } from 'pkg';
import { suffix } from './suffix.js';
const server = new McpServer({ name: 'mapped', version: '1.0.0' });
server.registerTool('which', { description: 'which sources' }, (): string => \`\${greeting} pkg \${version}\${suffix}\`);
export default server;
`,
  );

  expect(await which(server, cache)).toBe('from a pkg 1.0.0');
  expect(readdirSync(cache).filter((f) => f.endsWith('.json'))).toHaveLength(1); // compiled and cached
  expect(await which(server, cache)).toBe('from a pkg 1.0.0');

  // Same size, same directory: only the content of tsconfig.json changed.
  write(join(project, 'tsconfig.json'), tsconfig('./b.ts'));
  expect(await which(server, cache)).toBe('from b pkg 1.0.0');

  // A nearer tsconfig.json takes over (esbuild uses the nearest), then the file it extends changes.
  write(join(project, 'app/tsconfig.json'), tsconfig('../c.ts'));
  expect(await which(server, cache)).toBe('from c pkg 1.0.0');
  write(join(project, 'base.json'), tsconfig('./a.ts'));
  write(join(project, 'app/tsconfig.json'), JSON.stringify({ extends: '../base.json' }));
  expect(await which(server, cache)).toBe('from a pkg 1.0.0');
  write(join(project, 'base.json'), tsconfig('./b.ts'));
  expect(await which(server, cache)).toBe('from b pkg 1.0.0');

  // The bare import now resolves to a nearer copy of the package.
  pkg(join(project, 'app/node_modules/pkg'), '2.0.0');
  expect(await which(server, cache)).toBe('from b pkg 2.0.0');
  // Its package.json now points elsewhere.
  write(join(project, 'app/node_modules/pkg/other.js'), `export const version = 'other';\n`);
  write(
    join(project, 'app/node_modules/pkg/package.json'),
    JSON.stringify({ name: 'pkg', version: '2.0.1', type: 'module', main: 'other.js' }),
  );
  expect(await which(server, cache)).toBe('from b pkg other');
  // A relative import of ./suffix.js compiled from suffix.ts: a suffix.js written next to it wins.
  write(join(project, 'app/suffix.js'), `export const suffix = ' (js)';\n`);
  expect(await which(server, cache)).toBe('from b pkg other (js)');
  // Still one cache entry: rebuilt in place, never a new one per change.
  expect(readdirSync(cache).filter((f) => f.endsWith('.json'))).toHaveLength(1);
});
