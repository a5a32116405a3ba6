/**
 * Small things a new user trips over, as they would meet them: `list` columns stay aligned for long
 * names, and a stdio server started through `npm run` says how to keep npm's banner off stdout.
 * Uses the build in dist/.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { BIN, ROOT } from './helpers.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'anywire-usability-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LONG = 'a_tool_whose_name_is_longer_than_forty_characters_by_far';
const module = join(dir, 'server.mjs');
writeFileSync(
  module,
  `import { McpServer } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/index.js')).href)};
const server = new McpServer({ name: 'usability', version: '1.0.0' });
server.registerTool('short', { description: 'first description' }, () => 'ok');
server.registerTool(${JSON.stringify(LONG)}, { description: 'second description' }, () => 'ok');
export default server;
`,
);

it('anywire list tools aligns the descriptions when a name is over 40 characters', async () => {
  const { stdout } = await run(
    process.execPath,
    [BIN, 'list', 'tools', '-q', '--', process.execPath, BIN, 'serve', module],
    {
      cwd: ROOT,
      timeout: 60_000,
    },
  );
  const lines = stdout.trimEnd().split('\n');
  const columns = lines.map((l) =>
    l.indexOf(l.includes('first') ? 'first description' : 'second description'),
  );
  expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(['short', LONG]);
  expect(columns[0]).toBe(columns[1]);
  expect(columns[0]).toBe(LONG.length + 2);
});

it('npm run puts its banner on stdout; anywire serve says so and npm run --silent keeps stdout clean', async () => {
  const project = mkdtempSync(join(dir, 'project-'));
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({
      name: 'npm-run-stdio',
      version: '1.0.0',
      private: true,
      scripts: { start: `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} serve ./server.mjs` },
    }),
  );
  writeFileSync(
    join(project, 'server.mjs'),
    `export { default } from ${JSON.stringify(pathToFileURL(module).href)};\n`,
  );
  const initialize = `${JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  })}\n`;
  const npmRun = (args: string[]) =>
    new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      // Only the project's own settings: no npm_* variables inherited from a surrounding npm run.
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
      const child = spawn('npm', args, { cwd: project, env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`npm ${args.join(' ')} gave no initialize response in 60 s:\n${stdout}\n${stderr}`));
      }, 60_000);
      child.stderr.on('data', (d) => (stderr += d));
      child.stdout.on('data', (d) => {
        stdout += d;
        if (!stdout.includes('"id":1')) return;
        clearTimeout(timer);
        child.stdin.end();
        child.once('exit', () => resolve({ stdout, stderr }));
      });
      child.stdin.write(initialize);
    });
  const plain = await npmRun(['run', 'start']);
  expect(plain.stdout).toMatch(/^\s*> npm-run-stdio@1\.0\.0 start/);
  expect(plain.stderr).toContain('npm run --silent start');
  const silent = await npmRun(['run', '--silent', 'start']);
  expect(silent.stdout.startsWith('{"jsonrpc":"2.0","id":1,"result"')).toBe(true);
  expect(silent.stderr).not.toContain('--silent');
});
