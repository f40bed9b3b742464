import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { InputError, StateError } from '../../errors.js';

/** A successful result: `structuredContent` for clients that read it, the same JSON as text for those that do not. */
export function toolResult(structured: object): CallToolResult {
  return {
    structuredContent: { ...structured },
    content: [{ type: 'text', text: JSON.stringify(structured) }],
  };
}

/** A failure the model should read and act on (not found, bad filter), not a protocol error. */
export function toolError(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }] };
}

/** Runs a tool body: bad input and missing things become `isError` results; anything else is a bug and propagates. */
export async function runTool(body: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof InputError || error instanceof StateError) return toolError(error.message);
    throw error;
  }
}
