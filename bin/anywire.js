#!/usr/bin/env node
// The anywire binary: runs the built CLI, or the TypeScript sources through tsx when dist/ is absent.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/run.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { tsImport } = await import('tsx/esm/api');
  await tsImport(new URL('../src/cli/run.ts', import.meta.url).href, import.meta.url);
}
