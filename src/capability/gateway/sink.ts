import type { Tier } from '../../config/index.js';
import type { Dlp } from '../../control/index.js';
import { describeError } from '../../errors.js';

type Audit = (type: string, data: unknown) => Promise<{ id: string }>;

/**
 * Leak prevention on a write sink: every argument of a non-read call is scanned before the call
 * is decided, matches are replaced for the sink's clearance, and each redaction is audited
 * (`dlp-redaction`: rule, sink, field, a hash of the match; never the secret itself).
 */
export async function guardSink(
  dlp: Dlp | undefined,
  context: { callId: string; audit: Audit },
  tool: string,
  args: Record<string, unknown>,
  tier: Tier,
): Promise<{ type: 'ok'; args: Record<string, unknown> } | { type: 'error'; message: string }> {
  if (!dlp || tier === 'read') return { type: 'ok', args };
  try {
    const { value, redactions } = await dlp.redactForSink(args, { kind: 'tool', name: tool });
    for (const redaction of redactions)
      await context.audit('dlp-redaction', { callId: context.callId, ...redaction });
    return { type: 'ok', args: value as Record<string, unknown> };
  } catch (error) {
    return { type: 'error', message: describeError(error) };
  }
}
