import { appendOperatorEvent, loadSigningKey } from '../audit/index.js';
import type { CliContext } from './context.js';

/** Records an operator's action on the control layer in the signed operator log (`warden audit verify` checks it). */
export async function recordOperatorAction(
  context: CliContext,
  type: string,
  by: string,
  data: Record<string, unknown>,
): Promise<void> {
  await appendOperatorEvent(context.home, loadSigningKey(context.home), { type, by, data });
}
