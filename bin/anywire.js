#!/usr/bin/env node
// The anywire binary: runs the built CLI, or the TypeScript sources through tsx when dist/ is absent.
import { existsSync, readFileSync } from 'node:fs';
import module from 'node:module';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  // The answer needs nothing but package.json: skip loading the CLI.
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${version}\n`);
} else {
  // Node 22.1+: V8 keeps compiled code on disk between runs (NODE_COMPILE_CACHE picks the folder).
  module.enableCompileCache?.();
  const built = new URL('../dist/cli/run.js', import.meta.url);
  if (existsSync(built)) {
    await import(built.href);
  } else {
    const { tsImport } = await import('tsx/esm/api');
    await tsImport(new URL('../src/cli/run.ts', import.meta.url).href, import.meta.url);
  }
}
