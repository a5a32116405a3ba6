/**
 * A transpile cache for `.ts` server modules: the module and the local files it imports are
 * compiled once with esbuild (tsx's own compiler) into one ES module in a cache directory, keyed by
 * the entry's path and the versions of anywire and esbuild; the cache entry records every input's
 * path, mtime and size, and a change to any of them rebuilds it. A repeated spawn then imports plain
 * JavaScript and never loads tsx. Packages stay external, imported from the files Node would
 * resolve them to, so they are shared with the rest of the process; `import.meta.url`, `dirname` and
 * `filename` keep the values of the original file, and an inline source map points stacks at it.
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The cache directory: `$ANYWIRE_CACHE_DIR`, else `$XDG_CACHE_HOME/anywire`, else `~/.cache/anywire`. */
export function cacheDir(): string {
  if (process.env.ANYWIRE_CACHE_DIR) return process.env.ANYWIRE_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : tmpdir());
  return join(base, 'anywire');
}

interface Manifest {
  /** Every local input: absolute path, mtime in ms, size in bytes. */
  inputs: [string, number, number][];
  /** The compiled entry module. */
  entry: string;
}

const require = createRequire(import.meta.url);

function versions(): string {
  const own = (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  return `anywire ${own}, node ${process.versions.modules}`;
}

function fresh(manifest: Manifest): boolean {
  return manifest.inputs.every(([path, mtimeMs, size]) => {
    try {
      const s = statSync(path);
      return s.mtimeMs === mtimeMs && s.size === size;
    } catch {
      return false;
    }
  });
}

/**
 * The URL of a compiled, cached copy of the `.ts` module at `absPath`, built now if missing or
 * stale; undefined when esbuild is unavailable, the module cannot be bundled as an ES module (tsx
 * then loads it), or the cache directory is not writable.
 */
export async function cachedModuleUrl(absPath: string): Promise<string | undefined> {
  const dir = cacheDir();
  const key = createHash('sha256').update(`${absPath}\0${versions()}`).digest('hex').slice(0, 32);
  const out = join(dir, `${key}.mjs`);
  const manifestFile = join(dir, `${key}.json`);
  try {
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    if (fresh(manifest)) return pathToFileURL(manifest.entry).href;
  } catch {
    // no entry yet
  }
  try {
    return await build(absPath, out, manifestFile);
  } catch {
    return undefined;
  }
}

/** The part of esbuild's API used here (esbuild comes with tsx; it is not a dependency of ours). */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{
    outputFiles: { path: string; contents: Uint8Array }[];
    metafile: { inputs: Record<string, unknown> };
  }>;
}
interface PluginBuild {
  onResolve(
    options: { filter: RegExp },
    callback: (args: {
      path: string;
      kind: string;
      importer: string;
      resolveDir: string;
      pluginData?: unknown;
    }) => Promise<{ path?: string; external?: boolean } | undefined>,
  ): void;
  onLoad(
    options: { filter: RegExp },
    callback: (args: { path: string }) => { contents: string; loader: string } | undefined,
  ): void;
  resolve(
    path: string,
    options: { kind: string; resolveDir: string; importer: string; pluginData: unknown },
  ): Promise<{ path: string; external: boolean; errors: unknown[] }>;
}

async function loadEsbuild(): Promise<Esbuild> {
  // esbuild comes with tsx; resolve it from there so a strict installer's layout works too.
  const fromTsx = createRequire(require.resolve('tsx/package.json'));
  const mod = (await import(pathToFileURL(fromTsx.resolve('esbuild')).href)) as Esbuild & {
    default?: Esbuild;
  };
  return mod.default ?? mod;
}

const META = '__anywireImportMeta';

/** The plugin: packages external as the files Node would load; each local file its own import.meta. */
function plugin(): { name: string; setup(b: PluginBuild): void } {
  return {
    name: 'anywire-transpile-cache',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'inner') return undefined; // esbuild's own resolution, asked below
        if (args.path.startsWith('node:')) return { external: true };
        const r = await b.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'inner',
        });
        if (r.errors.length || r.external || !r.path) return { external: true };
        // A bare name mapped to TypeScript sources (tsconfig `paths`) is compiled with the rest.
        if (/\.[cm]?tsx?$/.test(r.path) && !r.path.includes('/node_modules/')) return { path: r.path };
        return { path: pathToFileURL(r.path).href, external: true };
      });
      b.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args) => {
        if (args.path.includes('/node_modules/')) return undefined;
        const meta = JSON.stringify({
          url: pathToFileURL(args.path).href,
          dirname: dirname(args.path),
          filename: args.path,
        });
        let source = readFileSync(args.path, 'utf8');
        // A shebang stays first; the import.meta values go on its line, so line numbers hold.
        const shebang = source.startsWith('#!') ? source.slice(0, source.indexOf('\n') + 1) : '';
        source = source.slice(shebang.length);
        const loader = /\.[cm]?tsx$/.test(args.path) ? 'tsx' : /\.[cm]?ts$/.test(args.path) ? 'ts' : 'js';
        return {
          contents: `${shebang.trimEnd()}${shebang ? '\n' : ''}const ${META} = ${meta};${source}`,
          loader,
        };
      });
    },
  };
}

async function build(entry: string, out: string, manifestFile: string): Promise<string | undefined> {
  const esbuild = await loadEsbuild();
  const outdir = `${out.slice(0, -'.mjs'.length)}.d`;
  const result = await esbuild.build({
    entryPoints: { entry },
    bundle: true,
    splitting: true, // a dynamic import stays lazy (its own chunk), with its packages
    write: false,
    outdir,
    outExtension: { '.js': '.mjs' },
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node.split('.')[0]}`,
    conditions: [],
    sourcemap: 'inline',
    sourcesContent: false,
    logLevel: 'silent',
    metafile: true,
    define: {
      'import.meta.url': `${META}.url`,
      'import.meta.dirname': `${META}.dirname`,
      'import.meta.filename': `${META}.filename`,
    },
    plugins: [plugin()],
  });
  const inputs: Manifest['inputs'] = Object.keys(result.metafile.inputs)
    .map((p) => resolve(process.cwd(), p))
    .filter((p) => !p.includes('/node_modules/'))
    .map((p) => {
      const s = statSync(p);
      return [p, s.mtimeMs, s.size];
    });
  // Chunks first (content-hashed names), then the entry and the manifest, each written then
  // renamed, so a concurrent spawn never imports half a file.
  const put = (file: string, data: Uint8Array | string) => {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  };
  const entryFile = join(outdir, 'entry.mjs');
  for (const f of result.outputFiles) if (f.path !== entryFile) put(f.path, f.contents);
  const main = result.outputFiles.find((f) => f.path === entryFile);
  if (!main) return undefined;
  put(entryFile, main.contents);
  put(manifestFile, JSON.stringify({ inputs, entry: entryFile } satisfies Manifest));
  return pathToFileURL(entryFile).href;
}
