/**
 * A transpile cache for `.ts` server modules: the module and the local files it imports are
 * compiled once with esbuild (tsx's own compiler) into one ES module in a cache directory, keyed by
 * the entry's path and the versions of anywire and Node. The cache entry records everything the
 * output depends on, and a change to any of it rebuilds the entry: the content of every local input,
 * of the tsconfig.json (or jsconfig.json) governing each one and the files it `extends` (path
 * mapping, JSX and decorator settings), of the nearest package.json (`imports`, self-reference) and
 * of esbuild's own package.json (its version); the absence of a nearer tsconfig.json, package.json
 * or `node_modules/<package>`, or of a file a relative import would resolve to first, that would
 * take precedence; and for each bare import left external,
 * the package.json of the copy it resolved to and the file itself. A repeated spawn then imports
 * plain JavaScript and never loads tsx. Packages stay external, imported from the files Node would
 * resolve them to, so they are shared with the rest of the process; `import.meta.url`, `dirname`
 * and `filename` keep the values of the original file, and an inline source map points stacks at it.
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The cache directory: `$ANYWIRE_CACHE_DIR`, else `$XDG_CACHE_HOME/anywire`, else `~/.cache/anywire`. */
export function cacheDir(): string {
  if (process.env.ANYWIRE_CACHE_DIR) return process.env.ANYWIRE_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : tmpdir());
  return join(base, 'anywire');
}

/** What a cache entry was built from; every part is checked before the entry is used. */
interface Manifest {
  /** Files whose content the output depends on: absolute path, sha256 of the content (hex). */
  files: [string, string][];
  /** Paths that must stay absent: something there would change how an import resolves. */
  absent: string[];
  /** Files the output imports by path (resolved packages): they must still exist. */
  present: string[];
  /** The compiled entry module. */
  entry: string;
}

const require = createRequire(import.meta.url);

function versions(): string {
  const own = (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  return `anywire ${own}, node ${process.versions.modules}, cache 2`;
}

function digest(path: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return undefined;
  }
}

function fresh(manifest: Manifest): boolean {
  if (!Array.isArray(manifest.files) || !Array.isArray(manifest.absent) || !Array.isArray(manifest.present))
    return false;
  return (
    manifest.absent.every((p) => !existsSync(p)) &&
    manifest.present.every((p) => existsSync(p)) &&
    manifest.files.every(([path, hash]) => digest(path) === hash)
  );
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

/** Collects, during a build, what the output depends on besides the compiled files' content. */
class Dependencies {
  readonly files = new Set<string>();
  readonly absent = new Set<string>();
  readonly present = new Set<string>();
  readonly #walked = new Set<string>();

  /**
   * The configuration governing a local file in `dir`: the nearest tsconfig.json (else
   * jsconfig.json, as esbuild looks) with what it extends, and the nearest package.json; each
   * nearer directory is recorded as having neither.
   */
  local(dir: string): void {
    let config = false;
    let pkg = false;
    for (let d = dir; !this.#walked.has(`cfg\0${d}`); d = dirname(d)) {
      this.#walked.add(`cfg\0${d}`);
      if (!config) {
        for (const name of ['tsconfig.json', 'jsconfig.json']) {
          const p = join(d, name);
          if (existsSync(p)) {
            this.#tsconfig(p);
            config = true;
            break;
          }
          this.absent.add(p);
        }
      }
      if (!pkg) {
        const p = join(d, 'package.json');
        if (existsSync(p)) {
          this.files.add(p);
          pkg = true;
        } else this.absent.add(p);
      }
      if ((config && pkg) || dirname(d) === d) break;
    }
  }

  /**
   * A bare import from `dir` resolved to `resolved` (undefined when unresolved): the package.json
   * of the nearest `node_modules/<package>` (its version and `exports`), every nearer one absent,
   * and the resolved file present.
   */
  external(specifier: string, dir: string, resolved: string | undefined): void {
    if (resolved) this.present.add(resolved);
    if (specifier.startsWith('#') || isBuiltin(specifier)) return;
    const parts = specifier.split('/');
    const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
    for (let d = dir; ; d = dirname(d)) {
      if (this.#walked.has(`pkg\0${name}\0${d}`)) break;
      this.#walked.add(`pkg\0${name}\0${d}`);
      if (!d.endsWith('/node_modules')) {
        const home = join(d, 'node_modules', name);
        if (existsSync(join(home, 'package.json'))) {
          this.files.add(join(home, 'package.json'));
          break;
        }
        this.absent.add(home);
      }
      if (dirname(d) === d) break;
    }
  }

  /**
   * A relative import of `target` that resolved to the file `resolved`: every candidate esbuild
   * tries before it (the exact path, then each extension, then `index.*`) stays absent, so a
   * `./x.js` written next to the `./x.ts` it was compiled from is noticed.
   */
  relative(target: string, resolved: string): void {
    const exts = ['.tsx', '.ts', '.jsx', '.js', '.css', '.json'];
    const candidates = [
      target,
      ...exts.map((e) => target + e),
      ...exts.map((e) => join(target, `index${e}`)),
    ];
    const at = candidates.indexOf(resolved);
    for (const c of at === -1 ? [target] : candidates.slice(0, at))
      if (c !== resolved && !(c === target && resolved.startsWith(`${target}/`))) this.absent.add(c);
  }

  /** A tsconfig.json and, recursively, the files its `extends` names. */
  #tsconfig(path: string): void {
    if (this.files.has(path)) return;
    this.files.add(path);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return;
    }
    // tsconfig is JSONC; only the `extends` value is needed, a string or an array of strings.
    const m = /"extends"\s*:\s*("(?:[^"\\]|\\.)*"|\[[^\]]*\])/.exec(text);
    if (!m) return;
    let specs: unknown;
    try {
      specs = JSON.parse(m[1]!.replace(/,\s*\]$/, ']'));
    } catch {
      return;
    }
    for (const spec of [specs].flat()) {
      if (typeof spec !== 'string') continue;
      const found = extendsTarget(spec, dirname(path));
      if (found) this.#tsconfig(found);
    }
  }
}

/** Where a tsconfig `extends` value leads: a relative or absolute path, or a file in a package. */
function extendsTarget(spec: string, dir: string): string | undefined {
  const candidates = spec.endsWith('.json') ? [spec] : [spec, `${spec}.json`];
  if (spec.startsWith('.') || isAbsolute(spec)) {
    return candidates.map((c) => resolve(dir, c)).find((p) => existsSync(p) && statSync(p).isFile());
  }
  const from = createRequire(join(dir, 'tsconfig.json'));
  for (const c of [...candidates, `${spec}/tsconfig.json`]) {
    try {
      return from.resolve(c);
    } catch {
      // next candidate
    }
  }
  return undefined;
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

/** esbuild, and its package.json (its version is part of what the output depends on). */
async function loadEsbuild(): Promise<{ esbuild: Esbuild; packageJson: string }> {
  // esbuild comes with tsx; resolve it from there so a strict installer's layout works too.
  const fromTsx = createRequire(require.resolve('tsx/package.json'));
  const main = fromTsx.resolve('esbuild');
  const mod = (await import(pathToFileURL(main).href)) as Esbuild & { default?: Esbuild };
  return { esbuild: mod.default ?? mod, packageJson: join(dirname(main), '..', 'package.json') };
}

const META = '__anywireImportMeta';

/** The plugin: packages external as the files Node would load; each local file its own import.meta. */
function plugin(
  deps: Dependencies,
  loaded: Map<string, string>,
): { name: string; setup(b: PluginBuild): void } {
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
        if (r.errors.length || r.external || !r.path) {
          deps.external(args.path, args.resolveDir, undefined);
          return { external: true };
        }
        // A bare name mapped to TypeScript sources (tsconfig `paths`) is compiled with the rest.
        if (/\.[cm]?tsx?$/.test(r.path) && !r.path.includes('/node_modules/')) return { path: r.path };
        deps.external(args.path, args.resolveDir, r.path);
        return { path: pathToFileURL(r.path).href, external: true };
      });
      b.onResolve({ filter: /^\.\.?(\/|$)/ }, async (args) => {
        if (args.pluginData === 'inner') return undefined;
        const r = await b.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'inner',
        });
        if (!r.errors.length && !r.external && r.path)
          deps.relative(resolve(args.resolveDir, args.path), r.path);
        return undefined; // resolved by esbuild as usual
      });
      b.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args) => {
        if (args.path.includes('/node_modules/')) return undefined;
        const meta = JSON.stringify({
          url: pathToFileURL(args.path).href,
          dirname: dirname(args.path),
          filename: args.path,
        });
        const bytes = readFileSync(args.path);
        // The content compiled is the content recorded, even if the file changes during the build.
        loaded.set(args.path, createHash('sha256').update(bytes).digest('hex'));
        deps.local(dirname(args.path));
        let source = bytes.toString('utf8');
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
  const { esbuild, packageJson } = await loadEsbuild();
  const deps = new Dependencies();
  const loaded = new Map<string, string>();
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
    plugins: [plugin(deps, loaded)],
  });
  const files = new Map(loaded);
  for (const input of Object.keys(result.metafile.inputs)) {
    const p = resolve(process.cwd(), input);
    if (p.includes('/node_modules/') || files.has(p)) continue;
    deps.local(dirname(p));
    files.set(p, digest(p)!);
  }
  for (const p of [...deps.files, packageJson]) if (!files.has(p)) files.set(p, digest(p) ?? '');
  const manifest: Manifest = {
    files: [...files],
    absent: [...deps.absent],
    present: [...deps.present],
    entry: '',
  };
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
  put(manifestFile, JSON.stringify({ ...manifest, entry: entryFile }));
  return pathToFileURL(entryFile).href;
}
