/**
 * Issue 12 item 5: the CLI as a full client. Elicitation is asked field by field on a terminal
 * (driven here through a real pseudo-terminal with tmux) or answered with --elicit-json; roots come
 * from --root; sampling goes through --sampling-command, and is refused with a hint without it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { anywire } from './cli-run.js';
import { BIN, ROOT } from './helpers.js';

const FIXTURE = `${ROOT}test/fixtures/cli-env-server.ts`;
const serveFixture = ['--', process.execPath, BIN, 'serve', FIXTURE];
const TMUX = '/usr/bin/tmux';

describe('elicitation without a terminal', () => {
  it('--elicit-json answers a form elicitation; an answer that does not fit is refused', async () => {
    const ok = await anywire([
      'call',
      'signup',
      '--elicit-json',
      '{"name":"Ada","color":"green"}',
      ...serveFixture,
    ]);
    expect(ok).toMatchObject({ code: 0, stdout: 'accept {"name":"Ada","color":"green"}\n' });
    const bad = await anywire(['call', 'signup', '--elicit-json', '{"name":"Ada"}', ...serveFixture]);
    expect(bad.code).toBe(1);
    expect(bad.stderr + bad.stdout).toContain('"color" is required');
  });

  it('a URL-mode elicitation is printed with its URL', async () => {
    const r = await anywire(['call', 'visit', '--elicit-json', '{}', ...serveFixture]);
    expect(r.stderr).toContain('the server asks you to open https://example.com/authorize?x=1');
    expect(r.stdout).toBe('accept\n');
  });
});

describe('roots and sampling', () => {
  it('--root DIR (repeatable) offers the directories as roots', async () => {
    const r = await anywire(['call', 'roots', '--root', '/tmp', '--root', 'test', ...serveFixture]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${pathToFileURL('/tmp').href}\n${pathToFileURL(`${ROOT}test`).href}\n`);
  });

  it('--sampling-command answers sampling; without it sampling is refused with a hint', async () => {
    const cmd = `${JSON.stringify(process.execPath)} -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const r=JSON.parse(s);console.log(r.messages[0].content.text.includes('6 x 7')?'42':'?')})"`;
    const r = await anywire(['call', 'ask-llm', '--sampling-command', cmd, ...serveFixture]);
    expect(r).toMatchObject({ code: 0, stdout: 'LLM said: 42\n' });
    const off = await anywire(['call', 'ask-llm', ...serveFixture]);
    expect(off.code).toBe(1);
    expect(off.stderr).toContain('sampling is off in the anywire CLI: pass --sampling-command CMD');
  });
});

describe('elicitation on a terminal (tmux pseudo-terminal)', () => {
  const skip = existsSync(TMUX) ? undefined : `${TMUX} is not installed`;
  if (skip) console.log(`skipping the TTY elicitation test: ${skip}`);
  it.skipIf(!!skip)(
    'asks each field, validates, takes defaults, and sends the answer',
    async () => {
      const socket = `anywire-test-${process.pid}`;
      const tmux = (...args: string[]) => execFileSync(TMUX, ['-L', socket, ...args], { encoding: 'utf8' });
      const screen = () => tmux('capture-pane', '-p', '-t', 'cli', '-S', '-100');
      const waitFor = async (text: string | RegExp, what: string) => {
        const deadline = Date.now() + 45_000;
        for (;;) {
          const s = screen();
          if (typeof text === 'string' ? s.includes(text) : text.test(s)) return s;
          if (Date.now() > deadline) throw new Error(`the terminal never showed ${what}; it shows:\n${s}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      const line = [process.execPath, BIN, 'call', 'signup', ...serveFixture].map((a) => `'${a}'`).join(' ');
      tmux('new-session', '-d', '-s', 'cli', '-x', '160', '-y', '50', `${line}; echo "EXIT=$?"; sleep 600`);
      try {
        await waitFor('The server asks: Create your profile', 'the elicitation message');
        await waitFor('Name <string>', 'the Name prompt');
        tmux('send-keys', '-t', 'cli', 'A', 'Enter');
        await waitFor('at least 2 characters', 'the minLength check');
        tmux('send-keys', '-t', 'cli', 'Ada', 'Enter');
        await waitFor('Age (optional) <integer> [30]', 'the Age prompt with its default');
        tmux('send-keys', '-t', 'cli', 'old', 'Enter');
        await waitFor('expected a number', 'the number check');
        tmux('send-keys', '-t', 'cli', 'Enter');
        await waitFor('Newsletter (optional) <y/n> [false]', 'the boolean prompt');
        tmux('send-keys', '-t', 'cli', 'y', 'Enter');
        const s = await waitFor('Color <choose>', 'the enum prompt');
        expect(s).toMatch(/1\) red\n\s+2\) green\n\s+3\) blue/);
        tmux('send-keys', '-t', 'cli', '2', 'Enter');
        await waitFor('Send? [Y/n/c', 'the confirmation');
        tmux('send-keys', '-t', 'cli', 'Enter');
        const end = await waitFor(/EXIT=\d+/, 'the exit status');
        expect(end).toContain('accept {"name":"Ada","age":30,"newsletter":true,"color":"green"}');
        expect(end).toContain('EXIT=0');
      } finally {
        tmux('kill-server');
      }
    },
    120_000,
  );
});
