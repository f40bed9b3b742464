import { Command, Option } from 'commander';
import {
  createCredentialIssuer,
  describeScope,
  type KillScope,
  killRevocations,
  openKillSwitchBoard,
} from '../control/index.js';
import { InputError } from '../errors.js';
import { defaultApprover } from './approvals.js';
import { cliContext } from './context.js';
import { recordOperatorAction } from './operator.js';

interface KillOptions {
  all?: boolean;
  tier?: 'read' | 'reversible' | 'destructive';
  server?: string;
  tool?: string;
  run?: string;
  status?: boolean;
  release?: string;
  by?: string;
  reason?: string;
}

function scopeOf(options: KillOptions): KillScope {
  const scopes: KillScope[] = [
    ...(options.all ? [{ type: 'all' as const }] : []),
    ...(options.tier ? [{ type: 'tier' as const, tier: options.tier }] : []),
    ...(options.server ? [{ type: 'server' as const, server: options.server }] : []),
    ...(options.tool ? [{ type: 'tool' as const, tool: options.tool }] : []),
    ...(options.run ? [{ type: 'run' as const, runId: options.run }] : []),
  ];
  const [scope, ...more] = scopes;
  if (!scope || more.length > 0) {
    throw new InputError(
      'say what to stop with exactly one of --all, --tier <tier>, --server <name>, --tool <server.tool>, --run <run>',
    );
  }
  return scope;
}

/** `warden kill`: engage, list or release kill switches; takes effect in running processes within a poll. */
export function killCommand(): Command {
  return new Command('kill')
    .description(
      'stop everything, an action class, a server, a tool or one run, now (also from another terminal)',
    )
    .option('--all', 'stop every run and every tool call')
    .addOption(
      new Option('--tier <tier>', 'refuse every call of this action class').choices([
        'read',
        'reversible',
        'destructive',
      ]),
    )
    .option('--server <name>', 'refuse every call to this tool server')
    .option('--tool <server.tool>', 'refuse every call of this tool')
    .option('--run <run>', 'stop this run')
    .option('--status', 'list engaged kill switches')
    .option('--release <id>', 'release an engaged kill switch')
    .option('--by <name>', 'who engages or releases (default: $WARDEN_APPROVER or your login name)')
    .option('--reason <text>', 'why, recorded with the switch and in the audit trail of runs it stops')
    .action(async (options: KillOptions, command: Command) => {
      const context = await cliContext(command);
      const board = openKillSwitchBoard(context.home);
      if (options.status) {
        const switches = board.current();
        if (switches.length === 0) context.out('no kill switch engaged');
        for (const engaged of switches) {
          context.out(
            `${engaged.id}  ${describeScope(engaged.scope)}  engaged by ${engaged.engagedBy} at ${engaged.engagedAt}: ${engaged.reason}`,
          );
        }
        return;
      }
      if (options.release) {
        const released = await board.release(options.release);
        await recordOperatorAction(context, 'kill-switch-release', options.by ?? defaultApprover(), {
          switchId: released.id,
          scope: released.scope,
        });
        context.out(
          `released ${released.id} (${describeScope(released.scope)}) by ${options.by ?? defaultApprover()}`,
        );
        return;
      }
      const scope = scopeOf(options);
      const engaged = await board.engage(
        scope,
        options.by ?? defaultApprover(),
        options.reason ?? 'no reason given',
        new Date(),
      );
      // What it stops loses its credentials at once, so even a call that bypasses the gateway is refused.
      const revocations = killRevocations(scope, context.config);
      if (revocations.length > 0)
        await createCredentialIssuer({ home: context.home }).revokeMatching(
          revocations,
          `kill switch ${engaged.id}`,
        );
      await recordOperatorAction(context, 'kill-switch-engage', engaged.engagedBy, {
        switchId: engaged.id,
        scope: engaged.scope,
        reason: engaged.reason,
        revoked: revocations,
      });
      context.out(
        `engaged ${engaged.id}: ${describeScope(engaged.scope)} stopped by ${engaged.engagedBy}; release with \`warden kill --release ${engaged.id}\``,
      );
    });
}
