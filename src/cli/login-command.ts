/**
 * Registers `anywire login <URL>` and `anywire logout <URL>` on the CLI program.
 * @module
 */
import type { Command } from 'commander';

/** Options of the `login` command as commander parses them. */
interface LoginFlags {
  clientId?: string;
  clientSecret?: string;
  clientMetadataUrl?: string;
  clientCredentials?: boolean;
  assertionFile?: string;
  dpop?: boolean;
  scope?: string;
  timeout?: string;
  browser?: boolean;
}

/** Adds `login` and `logout` to `program`. */
export function registerLoginCommands(program: Command): void {
  program
    .command('login')
    .description(
      'log in to an OAuth-protected MCP server (browser flow, or a machine grant) and cache its tokens',
    )
    .argument('<url>', 'the MCP server URL, e.g. https://example.com/mcp')
    .option('--client-id <id>', 'a pre-registered client id (default: CIMD or dynamic registration)')
    .option('--client-secret <secret>', 'the pre-registered client secret')
    .option(
      '--client-metadata-url <url>',
      'this client’s metadata document URL, used as client id where supported (CIMD)',
    )
    .option(
      '--client-credentials',
      'a machine client: the client_credentials grant (with --client-id and --client-secret)',
    )
    .option(
      '--assertion-file <file>',
      'workload identity: a JWT file for the RFC 7523 jwt-bearer grant (re-read on each grant)',
    )
    .option('--dpop', 'ask for DPoP-bound tokens (default: when the server offers DPoP)')
    .option('--no-dpop', 'never use DPoP')
    .option('--scope <scope>', 'the scope to ask for (default: what the server asks for)')
    .option('--timeout <ms>', 'how long to wait for the browser, in ms', '300000')
    .option('--no-browser', 'only print the URL, do not open a browser')
    .action(async (url: string, o: LoginFlags) => {
      const { login } = await import('./login.js');
      await login(url, {
        ...(o.clientId !== undefined ? { clientId: o.clientId } : {}),
        ...(o.clientSecret !== undefined ? { clientSecret: o.clientSecret } : {}),
        ...(o.clientMetadataUrl !== undefined ? { clientMetadataUrl: o.clientMetadataUrl } : {}),
        ...(o.clientCredentials ? { clientCredentials: true } : {}),
        ...(o.assertionFile !== undefined ? { assertionFile: o.assertionFile } : {}),
        ...(o.dpop !== undefined ? { dpop: o.dpop } : {}),
        ...(o.scope !== undefined ? { scope: o.scope } : {}),
        timeoutMs: Number(o.timeout),
        noBrowser: o.browser === false,
      });
    });
  program
    .command('logout')
    .description('forget the cached tokens of an MCP server')
    .argument('<url>', 'the MCP server URL')
    .action(async (url: string) => {
      const { logout } = await import('./login.js');
      const had = logout(url);
      process.stderr.write(had ? `Logged out of ${url}\n` : `No cached login for ${url}\n`);
    });
}
