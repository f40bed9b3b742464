import { WardenError } from '../../errors.js';

/** A rule uses a Sigma construct the engine does not evaluate; the rule is reported, never silently skipped. */
export class UnsupportedRuleError extends WardenError {
  readonly code = 'sigma_unsupported';
}

/** Throws UnsupportedRuleError with the given reason. */
export function unsupported(reason: string): never {
  throw new UnsupportedRuleError(reason);
}
