/**
 * Issue 12 items 4 and 6: environment and headers for the servers the CLI reaches, and the
 * commands a user reaches for next (inspect, prompt, complete, list templates, typed arrays, the
 * URL anywhere among the arguments). The `anywire` binary runs as a child process each time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpServer } from '../src/server/mcp-server.js';
import { serveHttp } from '../src/transports/streamable-http/node.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/node.js';
import { createEverythingServer } from '../examples/everything/server.js';
import { anywire, start } from './cli-run.js';
import { BIN, EVERYTHING, ROOT } from './helpers.js';

const FIXTURE = `${ROOT}test/fixtures/cli-env-server.ts`;
const serveFixture = ['--', process.execPath, BIN, 'serve', FIXTURE];

describe('environment and headers (item 4)', () => {
  it('-e KEY=VALUE sets and --env-pass NAME passes a variable; others stay out', async () => {
    const set = await anywire([
      'call',
      'getenv',
      'name=GREETING',
      '-e',
      'GREETING=hello there',
      ...serveFixture,
    ]);
    expect(set).toMatchObject({ code: 0, stdout: 'hello there\n' });
    const env = { SECRET_TOKEN: 's3cr3t' };
    const withheld = await anywire(['call', 'getenv', 'name=SECRET_TOKEN', ...serveFixture], { env });
    expect(withheld.stdout).toBe('(unset)\n');
    const passed = await anywire(
      ['call', 'getenv', 'name=SECRET_TOKEN', '--env-pass', 'SECRET_TOKEN', ...serveFixture],
      { env },
    );
    expect(passed.stdout).toBe('s3cr3t\n');
    const bad = await anywire(['call', 'getenv', 'name=X', '-e', 'NOEQUALS', ...serveFixture]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('-e expects KEY=VALUE, got "NOEQUALS"');
  });

  it("bridge -e sets the stdio upstream's environment; bridge -H sends headers upstream", async () => {
    const b = await start(
      ['bridge', '--to', 'http://127.0.0.1:0/mcp', '-e', 'GREETING=bridged', ...serveFixture],
      /http:\/\/127\.0\.0\.1:\d+\/mcp/,
    );
    try {
      expect((await anywire(['call', b.match[0], 'getenv', 'name=GREETING'])).stdout).toBe('bridged\n');
    } finally {
      await b.stop();
    }
    const server = new McpServer({ name: 'auth', version: '1.0.0' });
    server.registerTool(
      'whoami',
      { description: 'who is calling' },
      (_a, ctx) => ctx.authInfo?.subject ?? 'anonymous',
    );
    const upstream = await serveHttp(server, {
      port: 0,
      authenticate: (h) =>
        h.authorization?.startsWith('Bearer ')
          ? { subject: h.authorization.slice(7), token: h.authorization }
          : undefined,
    });
    const h = await start(
      ['bridge', upstream.url, '-H', 'Authorization: Bearer ada', '--to', 'http://127.0.0.1:0/mcp'],
      /bridging[^\n]*\n[^\n]*(http:\/\/127\.0\.0\.1:\d+\/mcp)/,
    );
    try {
      expect((await anywire(['call', h.match[1]!, 'whoami'])).stdout).toBe('ada\n');
    } finally {
      await h.stop();
      await upstream.close();
    }
  });
});

describe('new commands (item 6)', () => {
  let http: HttpServerHandle;
  beforeAll(async () => {
    http = await serveHttp(createEverythingServer(), { port: 0 });
  });
  afterAll(() => http.close());

  it('inspect: one screen with info, era, capabilities, tools with schemas, resources, templates, prompts', async () => {
    const r = await anywire(['inspect', http.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^anywire-everything \d+\.\d+\.\d+\n {2}era +modern \(protocol 2026-07-28\)/);
    expect(r.stdout).toMatch(/capabilities .*tools \(listChanged\).*completions/);
    expect(r.stdout).toMatch(/^tools \(\d+\)$/m);
    expect(r.stdout).toMatch(/^ {2}test_sampling\(prompt: string\) {2}Asks the client to sample an LLM$/m);
    expect(r.stdout).toMatch(/contactMethod\?: "phone"\|"email"/);
    expect(r.stdout).toMatch(/^resources \(\d+\)\n {2}test:\/\/static-text/m);
    expect(r.stdout).toMatch(
      /^resource templates \(1\)\n {2}test:\/\/template\/\{id\}\/data {2}Resource Template$/m,
    );
    expect(r.stdout).toMatch(/^ {2}test_prompt_with_arguments\(arg1, arg2\)/m);
    expect(r.stdout).toMatch(/^extensions \(\d+\)$/m);
    const j = await anywire([
      'inspect',
      '--json',
      '-q',
      ...['--', process.execPath, BIN, 'serve', EVERYTHING],
    ]);
    const parsed = JSON.parse(j.stdout);
    expect(parsed).toMatchObject({
      server: { name: 'anywire-everything' },
      era: 'modern',
      protocolVersion: '2026-07-28',
    });
    expect(parsed.tools.map((t: { name: string }) => t.name)).toContain('echo');
    expect(parsed.resourceTemplates[0].uriTemplate).toBe('test://template/{id}/data');
    expect(parsed.prompts.length).toBeGreaterThan(3);
  });

  it('prompt renders a prompt with key=value arguments', async () => {
    const r = await anywire(['prompt', http.url, 'test_prompt_with_arguments', 'arg1=a', 'arg2=b']);
    expect(r).toMatchObject({ code: 0, stdout: "user: Prompt with arguments: arg1='a', arg2='b'\n" });
    const j = await anywire(['prompt', 'test_simple_prompt', http.url, '--json']);
    expect(JSON.parse(j.stdout).messages[0].role).toBe('user');
    const missing = await anywire(['prompt', http.url, 'no_such_prompt']);
    expect(missing.code).toBe(1);
  });

  it('complete completes a prompt argument and a resource template variable', async () => {
    const p = await anywire(['complete', http.url, 'prompt:test_prompt_with_arguments', 'arg1', 'test']);
    expect(p).toMatchObject({ code: 0, stdout: 'testValue1\ntestValue2\n' });
    const t = await anywire(['complete', 'resource:test://template/{id}/data', 'id', '12', http.url]);
    expect(t.stdout).toBe('123\n');
    const bad = await anywire(['complete', http.url, 'tool:x', 'a']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('prompt:<name> or resource:<uri-template>');
  });

  it('list templates; the URL anywhere among the arguments', async () => {
    const r = await anywire(['list', 'templates', http.url]);
    expect(r).toMatchObject({ code: 0, stdout: 'test://template/{id}/data  Resource Template\n' });
    const a = await anywire(['list', 'tools', http.url]);
    const b = await anywire(['list', http.url, 'tools']);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toMatch(/^echo\s/m);
    expect((await anywire(['call', 'echo', http.url, 'text=anywhere'])).stdout).toBe('anywhere\n');
  });

  it('arrays typed from the schema: tags=a,b and counts=1,2', async () => {
    const r = await anywire(['call', 'tags', 'tags=a,b', 'counts=1,2', ...serveFixture]);
    expect(r).toMatchObject({ code: 0, stdout: '{"tags":["a","b"],"counts":[1,2]}\n' });
    const json = await anywire(['call', 'tags', 'tags=["x,y"]', ...serveFixture]);
    expect(json.stdout).toBe('{"tags":["x,y"]}\n');
  });

  it("each command's help has examples and lists the URL schemes", async () => {
    for (const cmd of ['call', 'list', 'read', 'prompt', 'complete', 'inspect', 'bridge']) {
      const r = await anywire([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain(`$ anywire ${cmd} `);
      expect(r.stdout).toMatch(
        /ws\(s\):\/\/host:port\/mcp, tcp:\/\/host:port, tls:\/\/host:port, unix:\/path, grpc\(s\):\/\/host:port, mqtt\(s\):\/\//,
      );
    }
  });
});
