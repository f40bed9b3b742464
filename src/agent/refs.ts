import type { Store } from '../store/index.js';

/**
 * The whole value behind an audit event id of this run: a tool or sub-task result, or the
 * alert (run-start). The model was shown results cut to limits.maxResultChars; this is uncut.
 */
export async function resolveRef(store: Store, runId: string, ref: string): Promise<unknown> {
  if (!ref.startsWith(`${runId}:`)) return undefined;
  const event = (await store.audit.list(runId)).find((candidate) => candidate.id === ref);
  if (!event || event.data === null || typeof event.data !== 'object') return undefined;
  const data = event.data as { value?: unknown; alert?: unknown; isError?: boolean };
  if (event.type === 'run-start') return data.alert;
  if ((event.type === 'tool-call-result' || event.type === 'subtask-result') && data.isError !== true)
    return data.value;
  return undefined;
}
