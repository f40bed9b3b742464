import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Tier, WardenConfig } from '../../config/index.js';
import {
  type ActionCounts,
  type AssetRegistry,
  type CredentialIssuer,
  createCredentialIssuer,
  createPolicy,
  createTierRegistry,
  criticalTargetOf,
  type KillSwitchBoard,
  matchesToolPattern,
  policyVersionOf,
  redeemReceipt,
  requestApproval,
  type TierSource,
} from '../../control/index.js';
import { describeError } from '../../errors.js';
import type { ToolSpec } from '../../model/provider.js';
import type { ApprovalRecord, ApprovalStore } from '../../store/index.js';
import { connectServer, type ServerConnection } from './connections.js';
import { createGatewayCredentials } from './credentials.js';

export type { ConnectOptions, ServerConnection } from './connections.js';
export { bundledServerCommand, connectServer } from './connections.js';

export interface GatewayTool extends ToolSpec {
  server: string;
  /** The bundled server kind behind `server`, or null for an external server. */
  bundledKind: string | null;
  tier: Tier;
  tierSource: TierSource;
}

export type AuditAppend = (type: string, data: unknown) => Promise<{ id: string }>;

export interface CallContext {
  runId: string;
  callId: string;
  audit: AuditAppend;
  approvals: ApprovalStore;
  now: () => Date;
  toolCallsSoFar: number;
  actionsSoFar: ActionCounts;
  /** An approval id presented as the receipt for exactly this call. */
  receipt?: string;
  signal?: AbortSignal;
}

export type CallOutcome =
  | { type: 'executed'; isError: boolean; value: unknown; ref: string }
  | { type: 'denied'; reason: string; ref: string }
  | { type: 'approval_required'; approval: ApprovalRecord; ref: string };

export interface Gateway {
  readonly tools: readonly GatewayTool[];
  call(context: CallContext, tool: string, args: Record<string, unknown>): Promise<CallOutcome>;
  /** Revokes the run's scoped credentials (at its end and at every pause; a resumed run gets new ones). */
  endRun(runId: string, reason: string, audit: AuditAppend): Promise<void>;
  close(): Promise<void>;
}

const toolNamePattern = /^[A-Za-z0-9_-]{1,64}$/;

/** The value the model sees: structured content, else parsed text; failures always as `{ error, message }`. */
function resultValue(result: CallToolResult): unknown {
  const text = result.content
    .map((block) => (block.type === 'text' ? block.text : `[${block.type} content omitted]`))
    .join('\n');
  if (result.isError === true) {
    return {
      error: 'tool_error',
      message: text || 'the tool reported an error',
      ...(result.structuredContent ? { details: result.structuredContent } : {}),
    };
  }
  if (result.structuredContent !== undefined) return result.structuredContent;
  try {
    return JSON.parse(text);
  } catch {
    return { text };
  }
}

/**
 * The only path from the agent to a tool: connects the configured MCP servers, names their
 * tools `server.tool`, and runs every call through the control checks and the audit trail.
 */
export async function createGateway(options: {
  config: WardenConfig;
  home: string;
  configPath?: string;
  /** Engaged kill switches; none when absent (tests). */
  killSwitches?: KillSwitchBoard;
  /** Asset criticality from Warden's own inventory: destructive actions on critical hosts and identities need more approvers. */
  assets?: AssetRegistry;
  /** Mints the scoped credentials bundled servers require; by default with the home's credential key. */
  credentials?: CredentialIssuer;
  /** Injected for tests: connections already made. */
  connections?: ServerConnection[];
}): Promise<Gateway> {
  const { config } = options;
  const timeoutMs = config.limits.toolTimeoutSeconds * 1000;
  const connections =
    options.connections ??
    (await (async () => {
      const entries = Object.entries(config.servers);
      const settled = await Promise.allSettled(
        entries.map(([name, server]) =>
          connectServer(name, server, {
            home: options.home,
            timeoutMs,
            lab: config.lab,
            ...(options.configPath ? { configPath: options.configPath } : {}),
          }),
        ),
      );
      const failed = settled.find((outcome) => outcome.status === 'rejected');
      if (failed) {
        await Promise.all(
          settled.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.close() : undefined)),
        );
        throw (failed as PromiseRejectedResult).reason;
      }
      return settled.map((outcome) => (outcome as PromiseFulfilledResult<ServerConnection>).value);
    })());

  const bundledKinds = new Map(
    connections.flatMap((connection) =>
      connection.bundledKind ? [[connection.name, connection.bundledKind] as const] : [],
    ),
  );
  const tiers = createTierRegistry({ overrides: config.tiers, bundledKinds });
  const byName = new Map<string, { connection: ServerConnection; toolName: string }>();
  const tools: GatewayTool[] = [];
  for (const connection of connections) {
    for (const tool of connection.tools) {
      if (!toolNamePattern.test(tool.name)) continue;
      const name = `${connection.name}.${tool.name}`;
      const { tier, source } = tiers.tierOf(name);
      byName.set(name, { connection, toolName: tool.name });
      tools.push({
        name,
        server: connection.name,
        description: tool.description ?? '',
        inputSchema: tool.inputSchema as Record<string, unknown>,
        tier,
        tierSource: source,
        bundledKind: connection.bundledKind,
      });
    }
  }
  const policy = createPolicy({
    tiers,
    deny: config.policy.deny,
    maxToolCalls: config.limits.maxToolCalls,
    maxActions: config.limits.maxActions,
    knownTools: (tool) => byName.has(tool),
    killSwitches: () => options.killSwitches?.current() ?? [],
  });
  const policyVersion = policyVersionOf(config);

  const credentials = createGatewayCredentials({
    issuer: options.credentials ?? createCredentialIssuer({ home: options.home }),
    ttlSeconds: config.credentials.ttlSeconds,
    // Standing scope: what a run may call without a human; anything else gets a one-call credential.
    standingTools: (server) =>
      tools
        .filter(
          (tool) =>
            tool.server === server &&
            tool.tier !== 'destructive' &&
            !matchesToolPattern(tool.name, config.policy.deny),
        )
        .map((tool) => tool.name.slice(server.length + 1)),
    now: () => new Date(),
  });

  async function execute(
    context: CallContext,
    tool: string,
    args: Record<string, unknown>,
  ): Promise<{ isError: boolean; value: unknown }> {
    const target = byName.get(tool);
    if (!target)
      return {
        isError: true,
        value: { error: 'unknown_tool', message: `${tool} is not offered by any connected server` },
      };
    let credential: Awaited<ReturnType<typeof credentials.forCall>> = null;
    try {
      credential = await credentials.forCall(context, target.connection, target.toolName, args);
      const result = (await target.connection.client.callTool(
        { name: target.toolName, arguments: args, ...(credential ? { _meta: credential.meta } : {}) },
        undefined,
        {
          timeout: timeoutMs,
          // A signal per call: the SDK leaves its abort listener on the signal it is given.
          ...(context.signal ? { signal: AbortSignal.any([context.signal]) } : {}),
        },
      )) as CallToolResult;
      return { isError: result.isError === true, value: resultValue(result) };
    } catch (error) {
      return {
        isError: true,
        value: { error: 'tool_failed', message: `${tool} failed: ${describeError(error)}` },
      };
    } finally {
      await credentials.afterCall(credential, context.audit);
    }
  }

  return {
    tools,
    async call(context, tool, args) {
      await context.audit('tool-call-request', {
        callId: context.callId,
        tool,
        args,
        receipt: context.receipt ?? null,
      });
      let { decision, tier, tierSource, check } = policy.decide({
        runId: context.runId,
        tool,
        args,
        toolCallsSoFar: context.toolCallsSoFar,
        actionsSoFar: context.actionsSoFar,
      });
      if (decision.type === 'require_approval' && context.receipt) {
        const receipt = await redeemReceipt(context.approvals, {
          approvalId: context.receipt,
          runId: context.runId,
          tool,
          args,
          now: context.now(),
        }).catch((error: unknown) => ({
          type: 'invalid' as const,
          reason: `receipt check failed: ${describeError(error)}`,
        }));
        decision =
          receipt.type === 'valid'
            ? {
                type: 'allow',
                reason: `approved by ${receipt.approval.decidedBy ?? 'unknown'} (receipt ${receipt.approval.id})`,
              }
            : { type: 'deny', reason: receipt.reason };
        check = 'receipt';
      }
      await context.audit('policy-decision', {
        callId: context.callId,
        tool,
        decision: decision.type,
        reason: decision.reason,
        check,
        tier,
        tierSource,
        policyVersion,
      });
      if (decision.type === 'deny') {
        const ref = await context.audit('tool-call-result', {
          callId: context.callId,
          tool,
          isError: true,
          value: { error: 'policy_denied', message: decision.reason },
        });
        return { type: 'denied', reason: decision.reason, ref: ref.id };
      }
      if (decision.type === 'require_approval') {
        const critical = options.assets ? criticalTargetOf(options.assets, args) : null;
        const requiredApprovers = critical ? config.approvals.criticalApprovers : 1;
        if (critical)
          decision = {
            type: 'require_approval',
            reason: `${decision.reason}; ${critical.name} is a critical ${critical.kind === 'host' ? 'asset' : 'identity'}, so ${requiredApprovers} distinct people must approve`,
          };
        const approval = await requestApproval(context.approvals, {
          requiredApprovers,
          runId: context.runId,
          tool,
          args,
          tier: tier ?? 'destructive',
          reason: decision.reason,
          ttlMinutes: config.approvals.ttlMinutes,
          now: context.now(),
        });
        const ref = await context.audit('tool-approval-request', {
          callId: context.callId,
          approvalId: approval.id,
          tool,
          args,
          argsHash: approval.argsHash,
          expiresAt: approval.expiresAt,
          reason: decision.reason,
        });
        return { type: 'approval_required', approval, ref: ref.id };
      }
      const { isError, value } = await execute(context, tool, args);
      const ref = await context.audit('tool-call-result', { callId: context.callId, tool, isError, value });
      return { type: 'executed', isError, value, ref: ref.id };
    },
    endRun: (runId, reason, audit) => credentials.endRun(runId, reason, audit),
    async close() {
      await Promise.all(connections.map((connection) => connection.close()));
    },
  };
}
