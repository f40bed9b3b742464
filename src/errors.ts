/**
 * One base error with a string code; subclasses say who is at fault.
 * The CLI prints `message` as one line; `cause` keeps the upstream error for --debug.
 */
export abstract class WardenError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The operator's configuration is wrong: the message names the key and the fix. */
export class ConfigError extends WardenError {
  readonly code = 'config_invalid';
}

/** An alert, file or argument given to Warden is malformed: the message names the field. */
export class InputError extends WardenError {
  readonly code = 'input_invalid';
}

/** A tool call was refused by the control layer. */
export class PolicyDeniedError extends WardenError {
  readonly code = 'policy_denied';
}

/** A cap on the run (turns, tool calls, time) was reached. */
export class BudgetExceededError extends WardenError {
  readonly code = 'budget_exceeded';
}

/** A model provider failed or replied with something Warden cannot use. */
export class ProviderError extends WardenError {
  readonly code = 'provider_failed';
}

/** The model replied with something Warden cannot use (no content, bad tool input, cut off): the loop asks again. */
export class ModelBehaviorError extends WardenError {
  readonly code = 'model_behavior';
}

/** The model API cannot be reached or keeps failing after retries (or has no key): the run may fall back to offline. */
export class ModelUnavailableError extends WardenError {
  readonly code = 'model_unavailable';
}

/** A tool server or backend failed (spawn, transport, malformed reply). */
export class BackendError extends WardenError {
  readonly code = 'backend_failed';
}

/** Something that must exist (run, approval) does not, or is in the wrong state. */
export class StateError extends WardenError {
  readonly code = 'state_invalid';
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
