/**
 * The package as published: `npm pack` of the build, installed into an empty project beside only
 * zod and TypeScript and the package's own (non-dev) dependencies, compiles the README's 20-line
 * server under `strict` without `skipLibCheck`, and a wrong argument type fails to compile.
 * `npm publish --dry-run` is clean. Offline: the tarball is unpacked as npm would install it, and
 * the dependencies are linked from this repository's node_modules (`npm ls --omit=dev` picks them),
 * so no devDependency can satisfy a published type by accident. Uses the build in dist/.
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const work = mkdtempSync(join(tmpdir(), 'anywire-pack-'));
const project = join(work, 'project');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The README's "A server in 20 lines" block. */
function readmeServer(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A server in 20 lines'));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README.md has no ts block under "A server in 20 lines"');
  return m[1]!;
}

async function tsc(): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(
      process.execPath,
      [join(project, 'node_modules/typescript/bin/tsc'), '-p', project],
      {
        cwd: project,
        timeout: 120_000,
      },
    );
    return { code: 0, out: stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: `${err.stdout}${err.stderr}` };
  }
}

function dtsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? dtsFiles(p) : p.endsWith('.d.ts') ? [p] : [];
  });
}

describe('the published package', () => {
  beforeAll(async () => {
    // npm pack of what is built (no scripts: the suite's build is the one packed).
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
      cwd: ROOT,
      timeout: 120_000,
    });
    const { filename } = (JSON.parse(stdout) as { filename: string }[])[0]!;
    const installed = join(project, 'node_modules', pkg.name);
    mkdirSync(installed, { recursive: true });
    await run('tar', ['-xzf', join(work, filename), '-C', installed, '--strip-components=1'], {
      timeout: 60_000,
    });
    // The package's dependency tree (no devDependencies), plus zod and TypeScript for the project.
    const { stdout: tree } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
      cwd: ROOT,
      timeout: 60_000,
    }).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
    const modules = join(ROOT, 'node_modules') + sep;
    const topLevel = new Set<string>(['zod', 'typescript']);
    for (const line of tree.split('\n')) {
      if (!line.startsWith(modules)) continue;
      const parts = relative(modules, line).split(sep);
      const name = parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
      if (!name.includes('node_modules')) topLevel.add(name);
    }
    for (const name of topLevel) {
      const link = join(project, 'node_modules', name);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(join(modules, name), link, 'dir');
    }
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          types: [],
        },
        files: ['server.ts'],
      }),
    );
  }, 240_000);

  it("compiles the README's 20-line server under strict, without skipLibCheck", async () => {
    writeFileSync(join(project, 'server.ts'), readmeServer());
    const r = await tsc();
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });

  it('a wrong argument type (a: z.number() used as a string) fails to compile', async () => {
    const wrong = readmeServer().replace('`${a + b}`', 'a.toUpperCase()');
    expect(wrong).not.toBe(readmeServer());
    writeFileSync(join(project, 'server.ts'), wrong);
    const r = await tsc();
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(
      /server\.ts\(\d+,\d+\): error TS2339: Property 'toUpperCase' does not exist on type 'number'/,
    );
  });

  it('its .d.ts files import only dependencies and Node built-ins, never a devDependency', () => {
    /** A package's own types, or else the @types package its types come from. */
    const typesOf = (name: string): string => {
      const dir = join(ROOT, 'node_modules', name);
      const manifest = readFileSync(join(dir, 'package.json'), 'utf8');
      const own = /"(types|typings)"\s*:/.test(manifest) || existsSync(join(dir, 'index.d.ts'));
      return own ? name : `@types/${name.replace(/^@/, '').replace('/', '__')}`;
    };
    const problems: string[] = [];
    for (const file of dtsFiles(join(project, 'node_modules', pkg.name, 'dist'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:from |import\()'([^'.][^']*)'/g)) {
        const spec = m[1]!;
        if (spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        const missing = [name, typesOf(name)].filter((p) => !(p in pkg.dependencies));
        if (missing.length)
          problems.push(`${relative(project, file)} imports ${spec}; not a dependency: ${missing}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the installed binary runs, and npm publish --dry-run is clean', async () => {
    const { stdout } = await run(
      process.execPath,
      [join(project, 'node_modules', pkg.name, 'bin/anywire.js'), '--version'],
      {
        timeout: 60_000,
      },
    );
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const { stderr } = await run('npm', ['publish', '--dry-run', '--ignore-scripts'], {
      cwd: ROOT,
      timeout: 120_000,
    });
    // npm names what it had to correct in package.json (e.g. a bin path it drops); none may be.
    expect(stderr).not.toMatch(/auto-corrected|errors corrected|invalid|was removed/i);
  });
});
