/**
 * Start-up cost is paid only for what is used: the root entry, the CLI and a stdio server load no
 * binding or heavy dependency they do not need. (Time itself is measured by `npm run bench`, never
 * here.) Uses the build in dist/; every module a child loads is recorded by a loader hook.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const run = promisify(execFile);
const HEAVY = ['ajv', '@grpc', 'mqtt', 'ws', '@msgpack', 'tsx', 'esbuild', 'commander'];
const dir = mkdtempSync(join(tmpdir(), 'anywire-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Runs node with `args`, returning stdout and the HEAVY packages it loaded. */
async function heavyLoadedBy(
  args: string[],
  options: { input?: string } = {},
): Promise<{ stdout: string; heavy: string[] }> {
  const record = join(dir, `imports-${n++}.txt`);
  const hook = join(ROOT, 'test/fixtures/record-imports.mjs');
  const child = run(process.execPath, ['--import', hook, ...args], {
    cwd: ROOT,
    timeout: 60_000,
    env: { ...process.env, RECORD_IMPORTS: record },
  });
  if (options.input !== undefined) child.child.stdin!.end(options.input);
  const { stdout } = await child;
  let urls: string[] = [];
  try {
    urls = readFileSync(record, 'utf8').split('\n');
  } catch {
    // nothing recorded
  }
  return { stdout, heavy: HEAVY.filter((p) => urls.some((u) => u.includes(`/node_modules/${p}/`))) };
}

it('importing the root entry and registering a raw JSON Schema tool loads no heavy dependency', async () => {
  const { heavy } = await heavyLoadedBy([
    '--input-type=module',
    '-e',
    `const { McpServer } = await import('./dist/index.js');
const s = new McpServer({ name: 'x', version: '1' });
s.registerTool('t', { inputSchema: { type: 'object', properties: { a: { type: 'number' } } } }, () => 'ok');`,
  ]);
  expect(heavy).toEqual([]);
});

const initialize = `${JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
})}\n${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n${JSON.stringify({
  jsonrpc: '2.0',
  id: 2,
  method: 'tools/call',
  params: { name: 'where', arguments: {} },
})}\n`;

/** Serves `module` on stdio for one initialize and one `where` call; returns the call's text. */
async function serveOnce(module: string, cacheDir: string): Promise<{ text: string; heavy: string[] }> {
  const record = join(dir, `imports-${n++}.txt`);
  const child = execFile(
    process.execPath,
    [
      '--import',
      join(ROOT, 'test/fixtures/record-imports.mjs'),
      join(ROOT, 'bin/anywire.js'),
      'serve',
      module,
    ],
    {
      cwd: ROOT,
      timeout: 60_000,
      env: { ...process.env, RECORD_IMPORTS: record, ANYWIRE_CACHE_DIR: cacheDir },
    },
  );
  let out = '';
  const text = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('"id":2'));
      if (line)
        resolve((JSON.parse(line) as { result: { content: { text: string }[] } }).result.content[0]!.text);
    });
    child.once('exit', (code) =>
      reject(new Error(`anywire serve exited (${code}) before answering: ${out}`)),
    );
    child.stdin!.write(initialize);
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.stdin!.end();
  await exited;
  const urls = readFileSync(record, 'utf8').split('\n');
  return { text, heavy: HEAVY.filter((p) => urls.some((u) => u.includes(`/node_modules/${p}/`))) };
}

it('anywire serve --version prints the version; a .ts module is compiled once, then served without tsx', async () => {
  const { stdout: version } = await run(process.execPath, [join(ROOT, 'bin/anywire.js'), '--version'], {
    cwd: ROOT,
    timeout: 60_000,
  });
  expect(version).toMatch(/^\d+\.\d+\.\d+\n$/);

  const project = mkdtempSync(join(dir, 'project-'));
  const cache = join(dir, 'cache');
  const server = join(project, 'server.ts');
  const greeting = join(project, 'greeting.ts');
  writeFileSync(greeting, `export const greeting: string = 'first';\n`);
  writeFileSync(
    server,
    `import { McpServer } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/index.js')).href)};
import { greeting } from './greeting.js';
const server = new McpServer({ name: 'ts-fixture', version: '1.0.0' });
server.registerTool('where', { description: 'where am I' }, (): string => \`\${greeting} \${import.meta.url}\`);
export default server;
`,
  );
  const first = await serveOnce(server, cache);
  expect(first.text).toBe(`first ${pathToFileURL(server).href}`);
  // The second spawn imports the compiled copy: no tsx, no esbuild (nor Ajv: the tool has no schema).
  const second = await serveOnce(server, cache);
  expect(second).toEqual({ text: first.text, heavy: ['commander'] });
  // A change to an imported file is seen at once (its content is part of the validation).
  writeFileSync(greeting, `export const greeting: string = 'second';\n`);
  const third = await serveOnce(server, cache);
  expect(third.text).toBe(`second ${pathToFileURL(server).href}`);
});
