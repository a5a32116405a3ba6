/**
 * `anywire serve --watch`: a dev mode. A supervisor runs `anywire serve` as a child (stdin, stdout
 * and stderr shared, so stdio keeps working across restarts for stateless clients), watches the
 * module and every local file it imports (the import graph, from esbuild's metafile; node_modules
 * excluded), and restarts the child when one changes. A child that crashes is restarted on the
 * next change; SIGINT/SIGTERM stop both.
 * @module
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { FSWatcher } from 'node:fs';
import { watch } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/** Debounce between a change and the restart, in ms. */
export const WATCH_DEBOUNCE_MS = 150;

/**
 * The local files `modulePath` imports, itself included (absolute paths). Falls back to the module
 * alone when esbuild cannot read the graph.
 */
export async function importGraph(modulePath: string): Promise<string[]> {
  const abs = resolve(modulePath);
  try {
    // esbuild comes with tsx; resolve it from there.
    const fromTsx = createRequire(require.resolve('tsx/package.json'));
    const esbuild = (await import(pathToFileURL(fromTsx.resolve('esbuild')).href)) as {
      build(o: Record<string, unknown>): Promise<{ metafile: { inputs: Record<string, unknown> } }>;
    };
    const r = await esbuild.build({
      entryPoints: [abs],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'silent',
    });
    const files = Object.keys(r.metafile.inputs)
      .map((p) => resolve(process.cwd(), p))
      .filter((p) => !p.includes('/node_modules/'));
    return files.includes(abs) ? files : [abs, ...files];
  } catch {
    return [abs];
  }
}

/** Runs `anywire <serveArgs...>` under a supervisor that restarts it on changes; resolves when stopped. */
export async function serveWatching(
  modulePath: string,
  serveArgs: string[],
  err: NodeJS.WritableStream = process.stderr,
): Promise<void> {
  let child: ChildProcess | undefined;
  let watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let restarting = false;
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });

  const stopChild = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };

  const rewatch = async (): Promise<void> => {
    for (const w of watchers) w.close();
    const files = new Set(await importGraph(modulePath));
    const dirs = new Set([...files].map((f) => dirname(f)));
    // Directory watchers survive editors that save by rename; events are filtered by file name.
    watchers = [...dirs].map((dir) =>
      watch(dir, (_event, name) => {
        if (name === null) return;
        const file = resolve(dir, name.toString());
        if (!files.has(file) || stopping) return;
        clearTimeout(timer);
        timer = setTimeout(() => void restart(basename(file)), WATCH_DEBOUNCE_MS);
      }),
    );
    err.write(`anywire: watching ${files.size} file${files.size === 1 ? '' : 's'}\n`);
  };

  const startChild = (): void => {
    const c = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...serveArgs], {
      stdio: 'inherit',
    });
    child = c;
    c.once('exit', (code, signal) => {
      if (stopping || restarting || child !== c) return;
      if (code === 0) {
        // A normal end (stdin closed on a stdio-only server): the supervisor ends too.
        stopping = true;
        for (const w of watchers) w.close();
        done();
      } else
        err.write(
          `anywire: the server exited (${signal ?? `exit code ${code}`}); waiting for a change to restart\n`,
        );
    });
  };

  const restart = async (file: string): Promise<void> => {
    err.write(`anywire: ${file} changed; restarting\n`);
    restarting = true;
    await stopChild();
    restarting = false;
    if (stopping) return;
    startChild();
    await rewatch();
  };

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearTimeout(timer);
    for (const w of watchers) w.close();
    await stopChild();
    done();
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  startChild();
  await rewatch();
  await finished;
}
