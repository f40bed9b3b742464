import { Command } from 'commander';
import { openHomeStore } from '../agent/index.js';
import { openKillSwitchBoard, reviewRisk } from '../control/index.js';
import { cliContext, cliRuntime } from './context.js';

const credentialNote =
  'credential scope: bundled servers run a tool only with a short-lived Ed25519 credential scoped to (run, server, tools), revoked at run end, pause and kill; external servers run with the access their env/headers give them, which Warden cannot limit server-side';

/** `warden risk-review`: the reviewer's four questions, answered from the live config and tool servers. */
export function riskReviewCommand(): Command {
  return new Command('risk-review')
    .description(
      'what the agent can do at worst, what stops it, what untrusted data it reads, and what a compromised agent could reach',
    )
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }, command: Command) => {
      const context = await cliContext(command);
      const runtime = await cliRuntime(context);
      try {
        // Recorded promotions live in the store; if another process holds it, config levels are shown.
        let levelsNote: string | null = null;
        try {
          const store = await openHomeStore(context.home, 3000);
          try {
            await runtime.autonomy.refresh(store.autonomy, new Date());
          } finally {
            await store.close();
          }
        } catch (error) {
          levelsNote = `autonomy levels from config only (store unavailable: ${(error as Error).message})`;
        }
        const review = reviewRisk(
          runtime.gateway.tools,
          context.config,
          openKillSwitchBoard(context.home).current(),
          {
            policies: runtime.gateway.policy.cedar,
            autonomy: runtime.autonomy.levelOf,
          },
        );
        if (options.json) {
          context.out(
            JSON.stringify({ ...review, credentials: credentialNote, autonomyNote: levelsNote }, null, 2),
          );
          return;
        }
        const row = (exposure: (typeof review.reach)[number]) =>
          `  ${exposure.tool.padEnd(34)} ${exposure.tier.padEnd(11)} ${exposure.autonomy.padEnd(8)} ${exposure.gate.padEnd(22)} critical: ${`${exposure.onCritical.gate}${exposure.onCritical.gate === 'human approval' ? ` ×${exposure.onCritical.approvers}` : ''}`.padEnd(22)} tainted: ${exposure.whenTainted.padEnd(20)} (${exposure.tierSource}; ${exposure.policies.join(', ')})`;
        context.out('1. The worst single action the agent can take');
        for (const exposure of review.worstActions) context.out(row(exposure));
        context.out('\n2. Who or what stops it');
        for (const line of review.stoppedBy) context.out(`  - ${line}`);
        context.out('\n3. Untrusted data that flows into its context');
        for (const line of review.untrustedInputs) context.out(`  - ${line}`);
        context.out(
          '\n4. What a fully compromised agent could reach (tool, tier, autonomy, gate, on a critical asset, with tainted arguments)',
        );
        for (const exposure of review.reach) context.out(row(exposure));
        context.out(`  ${credentialNote}`);
        if (levelsNote) context.out(`  ${levelsNote}`);
        if (review.warnings.length > 0) {
          context.out('\nWarnings');
          for (const warning of review.warnings) context.out(`  ! ${warning}`);
        }
      } finally {
        await runtime.close();
      }
    });
}
