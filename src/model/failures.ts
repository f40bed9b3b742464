import { ModelUnavailableError, ProviderError, WardenError } from '../errors.js';

/** What an SDK error looks like to Warden: both official SDKs share this shape. */
interface SdkErrorClasses {
  apiError: abstract new (...args: never[]) => Error & { status?: number | undefined };
  abortError: abstract new (...args: never[]) => Error;
}

/**
 * Turns an SDK failure (after the SDK's own retries) into Warden's errors: unreachable, rate
 * limited or overloaded APIs become `ModelUnavailableError` (a run may fall back to offline);
 * a rejected key or request becomes a `ProviderError` naming the fix. Aborts pass through.
 */
export function classifyFailure(
  error: unknown,
  options: { provider: string; model: string; keyEnv?: string | undefined; classes: SdkErrorClasses },
): unknown {
  const { provider, model, keyEnv, classes } = options;
  if (error instanceof WardenError || error instanceof classes.abortError) return error;
  if (!(error instanceof classes.apiError)) {
    return new ProviderError(`${provider}: unexpected failure: ${describe(error)}`, { cause: error });
  }
  const { status } = error;
  if (status === undefined) {
    return new ModelUnavailableError(`${provider} API unreachable: ${describe(error)}`, { cause: error });
  }
  if (status === 429 || status === 529 || status >= 500) {
    const kind = status === 429 ? 'rate limited' : status === 529 ? 'overloaded' : `failing (HTTP ${status})`;
    return new ModelUnavailableError(`${provider} API ${kind} after retries`, { cause: error });
  }
  if (status === 401 || status === 403) {
    return new ProviderError(
      `${provider} API rejected the credentials (HTTP ${status})${keyEnv ? `; check ${keyEnv}` : ''}`,
      { cause: error },
    );
  }
  if (status === 404) {
    return new ProviderError(
      `${provider} API: model ${model} or the endpoint was not found (HTTP 404); check the model id and base URL in warden.yaml`,
      { cause: error },
    );
  }
  return new ProviderError(`${provider} API refused the request (HTTP ${status}): ${describe(error)}`, {
    cause: error,
  });
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`.slice(0, 500);
}

/** Rejects as soon as `signal` aborts, even while an SDK sleeps between retries. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
