import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { type CredentialVerifier, credentialMetaKey, runMetaKey } from '../../credential/index.js';
import { logger } from '../../logging.js';

/** JSON-RPC error code of a `tools/call` refused for want of a valid credential (implementation-defined range). */
export const credentialRefusedCode = -32003;

export interface ToolCallGuardOptions {
  server: string;
  verifier: CredentialVerifier;
  /**
   * Tools that may run without any credential: empty unless the operator opted out with
   * `--allow-unauthenticated`, and then only the server's read-only tools.
   */
  unauthenticatedTools: ReadonlySet<string>;
}

function bearerToken(extra: MessageExtraInfo | undefined): string | null {
  const header = extra?.requestInfo?.headers?.authorization;
  const value = Array.isArray(header) ? header[0] : header;
  const match = typeof value === 'string' ? /^Bearer\s+(\S+)$/i.exec(value.trim()) : null;
  return match?.[1] ?? null;
}

function stringField(record: unknown, key: string): string | null {
  if (record === null || typeof record !== 'object') return null;
  const value = (record as Record<string, unknown>)[key];
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/**
 * Checks every `tools/call` arriving on `transport` before the server sees it: the call runs
 * only with a valid scoped credential in `params._meta["dev.warden/credential"]` (or, over
 * HTTP, `Authorization: Bearer`); otherwise it is answered with a JSON-RPC error naming why.
 * Install after `server.connect(transport)`.
 */
export function guardToolCalls(transport: Transport, options: ToolCallGuardOptions): void {
  const receive = transport.onmessage;
  transport.onmessage = (message: JSONRPCMessage, extra?: MessageExtraInfo) => {
    if (!('method' in message) || message.method !== 'tools/call' || !('id' in message)) {
      receive?.(message, extra);
      return;
    }
    const params = (message.params ?? {}) as Record<string, unknown>;
    const tool = stringField(params, 'name') ?? '';
    const args = (params.arguments ?? {}) as Record<string, unknown>;
    const token = stringField(params._meta, credentialMetaKey) ?? bearerToken(extra);
    if (token === null && options.unauthenticatedTools.has(tool)) {
      logger.warn(
        { server: options.server, tool },
        'unauthenticated read allowed by --allow-unauthenticated',
      );
      receive?.(message, extra);
      return;
    }
    const check = options.verifier.verify({
      token,
      tool,
      args,
      runId: stringField(params._meta, runMetaKey),
    });
    if (check.type === 'valid') {
      logger.debug(
        { server: options.server, tool, run: check.claims.runId, credential: check.claims.id },
        'tool call authorised',
      );
      receive?.(message, extra);
      return;
    }
    logger.warn(
      { server: options.server, tool, credential: check.tokenId, reason: check.reason },
      'tool call refused',
    );
    void transport
      .send(
        {
          jsonrpc: '2.0',
          id: message.id,
          error: { code: credentialRefusedCode, message: `Unauthorized: ${check.reason}` },
        },
        { relatedRequestId: message.id },
      )
      .catch((error: unknown) => logger.error({ err: error, server: options.server }, 'refusal not sent'));
  };
}

/**
 * The server's own read-only tools, from the annotations it registered them with. The SDK keeps
 * them in a private field; if that ever changes the set is empty, which fails closed.
 */
export function readOnlyToolsOf(server: McpServer): Set<string> {
  const registered = (server as unknown as { _registeredTools?: Record<string, unknown> })._registeredTools;
  const names = new Set<string>();
  for (const [name, tool] of Object.entries(registered ?? {})) {
    const annotations = (tool as { annotations?: { readOnlyHint?: unknown } } | undefined)?.annotations;
    if (annotations?.readOnlyHint === true) names.add(name);
  }
  return names;
}
