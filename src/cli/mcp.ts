import {
  type BundledServerName,
  bundledServerNames,
  serveBundledHttp,
  serveBundledStdio,
} from '../capability/servers/index.js';
import { InputError } from '../errors.js';
import { type CliContext, configBaseDir } from './context.js';

function isBundled(name: string): name is BundledServerName {
  return (bundledServerNames as readonly string[]).includes(name);
}

/**
 * `warden mcp <server>`: one bundled server for any MCP client. Only protocol on stdout in stdio
 * mode. Every tool call needs a scoped credential unless the operator opts out for reads.
 */
export async function serveMcp(
  context: CliContext,
  server: string,
  options: { http?: number; allowUnauthenticated?: boolean },
): Promise<void> {
  if (!isBundled(server))
    throw new InputError(`unknown server '${server}'; choose one of ${bundledServerNames.join(', ')}`);
  const allowUnauthenticatedReads =
    options.allowUnauthenticated === true || process.env.WARDEN_MCP_ALLOW_UNAUTHENTICATED === '1';
  if (allowUnauthenticatedReads)
    process.stderr.write(
      `warden: WARNING: ${server} runs its read-only tools for any caller without a credential (--allow-unauthenticated); writes still need one from \`warden credentials mint\`\n`,
    );
  const serverOptions = {
    home: context.home,
    lab: context.config.lab,
    baseDir: configBaseDir(context),
    allowUnauthenticatedReads,
  };
  if (options.http === undefined) {
    await serveBundledStdio(server, serverOptions);
    return;
  }
  const served = await serveBundledHttp(server, {
    ...serverOptions,
    host: '127.0.0.1',
    port: options.http,
  });
  process.stderr.write(`warden: ${server} MCP server on ${served.url}\n`);
  const stop = () => void served.close().finally(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
