/**
 * The exported surface of every entry point in package.json "exports", value and type names, against
 * test/fixtures/exported-surface.json: the public surface changes only on purpose. After an
 * intended change, run `UPDATE_SURFACE=1 npx vitest run test/exported-surface.test.ts` and commit
 * the fixture with the change.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const FIXTURE = `${ROOT}test/fixtures/exported-surface.json`;

/** The names an entry's source exports (explicit named exports only; `export *` is refused). */
function exportedNames(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  expect(text, `${file} uses export *`).not.toMatch(/export \*/);
  const names = new Set<string>();
  for (const m of text.matchAll(/export\s+(type\s+)?\{([^}]*)\}/g)) {
    for (const part of m[2]!.split(',')) {
      const name = part
        .trim()
        .split(/\s+as\s+/)
        .pop()!
        .trim();
      if (name) names.add(m[1] ? `type ${name}` : name);
    }
  }
  for (const m of text.matchAll(
    /export\s+(?:declare\s+)?(?:async\s+)?(class|function|const|let|interface|type|enum)\s+([A-Za-z0-9_$]+)/g,
  )) {
    names.add(m[1] === 'interface' || m[1] === 'type' ? `type ${m[2]}` : m[2]!);
  }
  return [...names].sort();
}

it('every entry point exports exactly the recorded names', async () => {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
    exports: Record<string, string | { types: string }>;
  };
  const surface: Record<string, string[]> = {};
  for (const [entry, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue; // ./package.json
    const src = target.types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts');
    surface[entry] = exportedNames(`${ROOT}${src}`);
  }
  if (process.env.UPDATE_SURFACE) {
    // Written as the repository's formatter would (the lint step checks the fixture too).
    const { format } = await import('prettier');
    writeFileSync(FIXTURE, await format(JSON.stringify(surface), { filepath: FIXTURE }));
  }
  const recorded = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, string[]>;
  expect(
    surface,
    'the exported surface changed: if on purpose, UPDATE_SURFACE=1 and commit the fixture',
  ).toEqual(recorded);
});
