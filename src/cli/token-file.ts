/**
 * The CLI's OAuth token cache: one JSON file, `$XDG_CONFIG_HOME/anywire/tokens.json` (else
 * `~/.config/anywire/tokens.json`), mode 0600 in a 0700 directory, written atomically. It holds
 * tokens per resource, dynamic registrations per issuer, and how each login was made (so `call`,
 * `list`, `read` and `bridge` can refresh or re-run a machine grant by themselves).
 * @module
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { StoredValue, TokenStore } from '../client/auth/types.js';

/** The directory of anywire's user configuration. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.length > 0 ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'anywire');
}

/** The token file's path. */
export function tokenFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'tokens.json');
}

/** How a login was made, kept under `login <resource>`. */
export interface LoginRecord {
  grant: 'authorization_code' | 'client_credentials' | 'jwt_bearer';
  client_id?: string;
  client_secret?: string;
  client_metadata_url?: string;
  assertion_file?: string;
  dpop?: boolean;
}

/** The store key of a login record. */
export function loginKey(resource: string): string {
  return `login ${resource}`;
}

/** A {@link TokenStore} over the token file; every write rewrites the whole file (0600). */
export class FileTokenStore implements TokenStore {
  readonly path: string;

  constructor(path: string = tokenFilePath()) {
    this.path = path;
  }

  /** Every entry (a null-prototype object; an unreadable file is an empty cache). */
  all(): Record<string, StoredValue> {
    const entries = Object.create(null) as Record<string, StoredValue>;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch {
      return entries;
    }
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      for (const [k, v] of Object.entries(parsed))
        if (v && typeof v === 'object' && !Array.isArray(v)) entries[k] = v as StoredValue;
    return entries;
  }

  get(key: string): StoredValue | undefined {
    return this.all()[key];
  }

  set(key: string, value: StoredValue): void {
    const entries = this.all();
    entries[key] = value;
    this.#write(entries);
  }

  delete(key: string): void {
    const entries = this.all();
    if (!(key in entries)) return;
    delete entries[key];
    this.#write(entries);
  }

  /** Writes a temporary file with mode 0600 and renames it over the cache. */
  #write(entries: Record<string, StoredValue>): void {
    const dir = join(this.path, '..');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(entries, null, 2)}\n`, { mode: 0o600 });
    chmodSync(temp, 0o600);
    renameSync(temp, this.path);
  }
}
