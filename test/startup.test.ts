/**
 * Start-up cost is paid only for what is used: the root entry, the CLI and a stdio server load no
 * binding or heavy dependency they do not need. (Time itself is measured by `npm run bench`, never
 * here.) Uses the build in dist/; every module a child loads is recorded by a loader hook.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const run = promisify(execFile);
const HEAVY = ['ajv', '@grpc', 'mqtt', 'ws', '@msgpack', 'tsx', 'esbuild', 'commander'];
const dir = mkdtempSync(join(tmpdir(), 'anywire-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Runs node with `args`, returning stdout and the HEAVY packages it loaded. */
export async function heavyLoadedBy(
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
