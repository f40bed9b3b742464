import { Command, InvalidArgumentError } from 'commander';
import { bundledServerNames } from '../capability/servers/index.js';
import { createCredentialIssuer, describeCredential } from '../control/index.js';
import { maxCredentialTtlSeconds } from '../credential/index.js';
import { InputError } from '../errors.js';
import { defaultApprover } from './approvals.js';
import { cliContext } from './context.js';
import { recordOperatorAction } from './operator.js';

function ttlSeconds(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0 || number > maxCredentialTtlSeconds)
    throw new InvalidArgumentError(`expected whole seconds, 1-${maxCredentialTtlSeconds}`);
  return number;
}

/**
 * `warden credentials mint|revoke`: an operator's scoped credential for a bundled server used
 * by another MCP client, and immediate revocation (the gateway mints and revokes its own).
 */
export function credentialsCommand(): Command {
  const command = new Command('credentials').description(
    'scoped credentials for the bundled MCP servers: mint one for another MCP client, revoke any',
  );
  command
    .command('mint')
    .description('print a short-lived credential for one server and the named tools (token on stdout only)')
    .requiredOption('--run <run>', 'the run (or operator session) the credential acts for')
    .requiredOption('--server <server>', `bundled server: ${bundledServerNames.join(' | ')}`)
    .requiredOption('--tools <tools>', 'comma-separated tool names on that server, or * for all of them')
    .option('--ttl <seconds>', 'lifetime', ttlSeconds, 300)
    .action(async (options: { run: string; server: string; tools: string; ttl: number }, sub: Command) => {
      const context = await cliContext(sub);
      if (!(bundledServerNames as readonly string[]).includes(options.server))
        throw new InputError(`--server ${options.server}: choose one of ${bundledServerNames.join(', ')}`);
      const tools = options.tools
        .split(',')
        .map((tool) => tool.trim())
        .filter((tool) => tool.length > 0);
      if (tools.length === 0) throw new InputError('--tools: name at least one tool, or * for all');
      const issuer = createCredentialIssuer({ home: context.home, issuer: `operator:${defaultApprover()}` });
      const credential = issuer.mint({
        runId: options.run,
        server: options.server,
        tools,
        ttlSeconds: options.ttl,
      });
      await recordOperatorAction(context, 'credential-mint', defaultApprover(), {
        runId: options.run,
        ...describeCredential(credential),
      });
      process.stderr.write(
        `warden: credential ${credential.id} for ${options.server} (${tools.join(', ')}), run ${options.run}, expires ${new Date(credential.expiresAt).toISOString()}; revoke with \`warden credentials revoke --id ${credential.id}\`\n`,
      );
      context.out(credential.token);
    });
  command
    .command('revoke')
    .description('revoke credentials now, for every process on this home')
    .option('--id <credential>', 'one credential (cred-…)')
    .option('--run <run>', 'every credential of this run issued until now')
    .option('--all', 'every credential issued until now')
    .option('--reason <text>', 'why', 'revoked by an operator')
    .action(async (options: { id?: string; run?: string; all?: boolean; reason: string }, sub: Command) => {
      const context = await cliContext(sub);
      const chosen = [options.id, options.run, options.all].filter((value) => value !== undefined);
      if (chosen.length !== 1)
        throw new InputError('say what to revoke with exactly one of --id, --run, --all');
      const issuer = createCredentialIssuer({ home: context.home });
      const reason = `${options.reason} (${defaultApprover()})`;
      if (options.id) {
        // The token's expiry is unknown here; keep the entry as long as any credential can live.
        await issuer.revoke(
          [{ id: options.id, expiresAt: Date.now() + maxCredentialTtlSeconds * 1000 }],
          reason,
        );
        await recordOperatorAction(context, 'credential-revoke', defaultApprover(), {
          credentialIds: [options.id],
          reason: options.reason,
        });
        context.out(`revoked credential ${options.id}`);
        return;
      }
      await issuer.revokeIssuedBefore(options.run ?? null, reason);
      await recordOperatorAction(context, 'credential-revoke', defaultApprover(), {
        ...(options.run ? { runId: options.run } : { all: true }),
        reason: options.reason,
      });
      context.out(
        options.run ? `revoked every credential of run ${options.run}` : 'revoked every credential',
      );
    });
  return command;
}
