import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Tier, WardenConfig } from '../../config/index.js';
import {
  type ActionCounts,
  type AssetRegistry,
  type AutonomyBook,
  type CredentialIssuer,
  checkReceipt,
  consumeReceipt,
  createCredentialIssuer,
  createPolicy,
  createTierRegistry,
  type Decision,
  type Dlp,
  type KillSwitchBoard,
  labelResult,
  matchesToolPattern,
  type Policy,
  type ResultLabels,
  requestApproval,
  type TierSource,
  targetAsset,
} from '../../control/index.js';
import { openUseLedger } from '../../credential/index.js';
import { describeError } from '../../errors.js';
import type { ToolSpec } from '../../model/provider.js';
import type { ApprovalRecord, ApprovalStore } from '../../store/index.js';
import { connectServer, type ServerConnection } from './connections.js';
import { createGatewayCredentials } from './credentials.js';
import { guardSink } from './sink.js';

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
  /**
   * Records an event without waiting for its commit (resolves once it is numbered). Used for what
   * follows a call's effect (its result, its notification); whoever supplies it must wait for a
   * commit before the run's next side effect. The next call's write-ahead does, as a run's events
   * commit in order. Absent: `audit`.
   */
  auditQueued?: AuditAppend;
  /** An approval id presented as the receipt for exactly this call. */
  receipt?: string;
  /** Taint of this call's arguments, assessed by the run (control/taint.ts); untainted when absent. */
  taint?: { tainted: boolean; args: string[]; detail?: string };
  /** The run raised an injection signal: its writes need an approval. */
  injection?: boolean;
  /** What the signal was, shown to the approver. */
  injectionDetail?: string;
  signal?: AbortSignal;
}

/** `tier` is the call's tier with its arguments (argument rules can raise it above the tool's). */
export type CallOutcome =
  | {
      type: 'executed';
      isError: boolean;
      value: unknown;
      ref: string;
      tier: Tier | null;
      notified: boolean;
      /** Which result fields are trusted (provenance). */
      labels: ResultLabels;
    }
  | { type: 'denied'; reason: string; ref: string; tier: Tier | null }
  | { type: 'approval_required'; approval: ApprovalRecord; ref: string; tier: Tier | null }
  /** Autonomy level `suggest`: not executed, recorded as a recommendation for a human. */
  | { type: 'suggested'; reason: string; ref: string; tier: Tier | null };

export interface Gateway {
  readonly tools: readonly GatewayTool[];
  /** The policy decision point (Cedar policy set and its version). */
  readonly policy: Policy;
  call(context: CallContext, tool: string, args: Record<string, unknown>): Promise<CallOutcome>;
  /** Revokes the run's scoped credentials (at its end and at every pause; a resumed run gets new ones). */
  endRun(runId: string, reason: string, audit: AuditAppend): Promise<void>;
  close(): Promise<void>;
}

const noop = () => undefined;

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
  /** Asset criticality from Warden's own inventory: destructive actions on critical hosts need more approvers. */
  assets?: AssetRegistry;
  /** Autonomy levels per action class; tier defaults when absent. */
  autonomy?: AutonomyBook;
  /** Folder of Cedar policies, resolved; else `policy.directory` as given, else the bundled `policies/`. */
  policyDirectory?: string;
  /** Mints the scoped credentials bundled servers require; by default with the home's credential key. */
  credentials?: CredentialIssuer;
  /** Leak prevention on write sinks; none when absent (tests). */
  dlp?: Dlp;
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
  const tiers = createTierRegistry({ overrides: config.tiers, bundledKinds, rules: config.tierRules });
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
  let policy: Policy;
  try {
    const policyDirectory = options.policyDirectory ?? config.policy.directory;
    policy = createPolicy({
      tiers,
      deny: config.policy.deny,
      maxToolCalls: config.limits.maxToolCalls,
      maxActions: config.limits.maxActions,
      knownTools: (tool) => byName.has(tool),
      killSwitches: () => options.killSwitches?.current() ?? [],
      ...(policyDirectory ? { policyDirectory } : {}),
      ...(options.assets ? { assets: options.assets } : {}),
      ...(options.autonomy ? { autonomy: options.autonomy.levelOf } : {}),
    });
  } catch (error) {
    await Promise.all(connections.map((connection) => connection.close()));
    throw error;
  }

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
    uses: openUseLedger(options.home),
    now: () => new Date(),
  });

  type PreparedCredential = ReturnType<typeof credentials.forCall>;

  /**
   * Mints the credential for an allowed call before the write-ahead is awaited, so that its
   * `credential-mint` record goes in the same audit write as the request and the decision.
   */
  function prepareCredential(
    context: CallContext,
    tool: string,
    args: Record<string, unknown>,
  ): PreparedCredential | null {
    const target = byName.get(tool);
    return target ? credentials.forCall(context, target.connection, target.toolName, args) : null;
  }

  async function execute(
    context: CallContext,
    tool: string,
    args: Record<string, unknown>,
    prepared: PreparedCredential | null,
  ): Promise<{ isError: boolean; value: unknown }> {
    const target = byName.get(tool);
    if (!target)
      return {
        isError: true,
        value: { error: 'unknown_tool', message: `${tool} is not offered by any connected server` },
      };
    let credential: Awaited<PreparedCredential> = null;
    try {
      credential = await (prepared ?? credentials.forCall(context, target.connection, target.toolName, args));
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
      await credentials.afterCall(credential, context.auditQueued ?? context.audit);
    }
  }

  /** Carries out a decision: refuse, record a suggestion, ask for approval, or execute (and notify). */
  async function act(
    context: CallContext,
    tool: string,
    args: Record<string, unknown>,
    decided: {
      decision: Decision;
      tier: Tier | null;
      policyVersion: string | null;
      notify: boolean;
      autonomy: string | null;
      requiredApprovers: number;
      /** The credential minted for an allowed call with the write-ahead. */
      credential: PreparedCredential | null;
    },
  ): Promise<CallOutcome> {
    const { decision, tier } = decided;
    // The request and decision were committed before this: what follows need not hold the caller up.
    const record = context.auditQueued ?? context.audit;
    if (decision.type === 'deny' || decision.type === 'suggest') {
      const error = decision.type === 'deny' ? 'policy_denied' : 'suggested_only';
      const message =
        decision.type === 'deny'
          ? decision.reason
          : `not executed, recorded as a recommendation for a human: ${decision.reason}`;
      const ref = await record('tool-call-result', {
        callId: context.callId,
        tool,
        isError: true,
        value: { error, message },
      });
      return decision.type === 'deny'
        ? { type: 'denied', reason: decision.reason, ref: ref.id, tier }
        : { type: 'suggested', reason: message, ref: ref.id, tier };
    }
    if (decision.type === 'require_approval') {
      const approval = await requestApproval(context.approvals, {
        requiredApprovers: decided.requiredApprovers,
        runId: context.runId,
        tool,
        args,
        tier: tier ?? 'destructive',
        reason: decision.reason,
        ttlMinutes: config.approvals.ttlMinutes,
        now: context.now(),
        policyVersion: decided.policyVersion,
      });
      const ref = await context.audit('tool-approval-request', {
        callId: context.callId,
        approvalId: approval.id,
        tool,
        args,
        argsHash: approval.argsHash,
        policyVersion: approval.policyVersion,
        requiredApprovers: approval.requiredApprovers,
        expiresAt: approval.expiresAt,
        reason: decision.reason,
      });
      return { type: 'approval_required', approval, ref: ref.id, tier };
    }
    const { isError, value } = await execute(context, tool, args, decided.credential);
    const labels = labelResult({
      tool,
      bundledKind: bundledKinds.get(tool.slice(0, tool.indexOf('.'))) ?? null,
      isError,
      configured: config.provenance.trusted,
    });
    const ref = await record('tool-call-result', {
      callId: context.callId,
      tool,
      isError,
      value,
      labels,
      // A write's result records the arguments it was sent with (after leak redaction).
      ...(tier === 'read' ? {} : { args }),
    });
    if (decided.notify)
      await record('action-notify', {
        callId: context.callId,
        tool,
        args,
        tier,
        autonomy: decided.autonomy,
        isError,
        resultRef: ref.id,
      });
    return { type: 'executed', isError, value, ref: ref.id, tier, notified: decided.notify, labels };
  }

  /** Checks a presented receipt before deciding: a valid one lifts approval gates in Cedar. */
  async function presentedReceipt(context: CallContext, tool: string, args: Record<string, unknown>) {
    if (!context.receipt) return null;
    return checkReceipt(context.approvals, {
      approvalId: context.receipt,
      runId: context.runId,
      tool,
      args,
      policyVersion: policy.version,
    }).catch((error: unknown) => ({
      type: 'invalid' as const,
      reason: `receipt check failed: ${describeError(error)}`,
    }));
  }

  return {
    tools,
    policy,
    async call(context, tool, requested) {
      // Queued now, not awaited alone: the checks run meanwhile, and the request is awaited together
      // with the policy decision before anything with an effect happens (receipt use, approval, execution).
      const recorded = context.audit('tool-call-request', {
        callId: context.callId,
        tool,
        args: requested,
        receipt: context.receipt ?? null,
      });
      recorded.catch(() => {});
      // Policy, approval and execution all see the redacted arguments, so an approval binds what
      // will run; redaction is deterministic, so a receipt presented on resume still matches.
      const sink = await guardSink(options.dlp, context, tool, requested, tiers.tierOf(tool, requested).tier);
      if (sink.type === 'error') {
        const reason = `leak check failed (${sink.message}): denied`;
        await recorded;
        await context.audit('policy-decision', {
          callId: context.callId,
          tool,
          decision: 'deny',
          reason,
          check: 'dlp',
        });
        const ref = await context.audit('tool-call-result', {
          callId: context.callId,
          tool,
          isError: true,
          value: { error: 'policy_denied', message: reason },
        });
        return { type: 'denied', reason, ref: ref.id, tier: null };
      }
      const args = sink.args;
      const receipt = await presentedReceipt(context, tool, args);
      const decided = policy.decide({
        runId: context.runId,
        tool,
        args,
        toolCallsSoFar: context.toolCallsSoFar,
        actionsSoFar: context.actionsSoFar,
        ...(context.taint ? { taint: context.taint } : {}),
        ...(context.injection && config.injection.pauseAutonomy ? { injectionSignal: true } : {}),
        // An approved receipt has at least the person who decided it, even if recorded before per-person lists.
        ...(receipt?.type === 'valid'
          ? { approval: { approvers: Math.max(1, receipt.approval.approvers.length) } }
          : {}),
      });
      const { tier, tierSource, policyVersion, reasons, autonomy, notify } = decided;
      let { decision, check } = decided;
      if (decision.type === 'require_approval' && context.injection && context.injectionDetail)
        decision = { type: 'require_approval', reason: `${decision.reason}; ${context.injectionDetail}` };
      if (receipt && decision.type !== 'deny') {
        check = 'receipt';
        if (receipt.type === 'invalid') decision = { type: 'deny', reason: receipt.reason };
        else if (decision.type !== 'allow')
          decision = {
            type: 'deny',
            reason: `receipt ${receipt.approval.id} does not satisfy the policy: ${decision.reason}`,
          };
        else {
          await recorded;
          const used = await consumeReceipt(context.approvals, receipt.approval, context.now()).catch(
            (error: unknown) => ({
              type: 'invalid' as const,
              reason: `receipt use failed: ${describeError(error)}`,
            }),
          );
          decision =
            used.type === 'valid'
              ? {
                  type: 'allow',
                  reason: `approved by ${receipt.approval.approvers.map((entry) => entry.by).join(', ') || (receipt.approval.decidedBy ?? 'unknown')} (receipt ${receipt.approval.id}); ${decision.reason}`,
                }
              : { type: 'deny', reason: used.reason };
        }
      }
      let requiredApprovers = decided.approvers;
      if (decision.type === 'require_approval' && tier === 'destructive') {
        const asset = targetAsset(args, options.assets);
        if (asset.criticality === 'critical' && config.approvals.criticalApprovers > requiredApprovers) {
          requiredApprovers = config.approvals.criticalApprovers;
          decision = {
            type: 'require_approval',
            reason: `${decision.reason}; ${asset.name} is a critical ${asset.kind === 'host' ? 'asset' : 'identity'}, so approvals.criticalApprovers (${requiredApprovers}) distinct people must approve`,
          };
        }
      }
      const decisionRecorded = context.audit('policy-decision', {
        callId: context.callId,
        tool,
        decision: decision.type,
        reason: decision.reason,
        check,
        tier,
        tierSource,
        policyVersion,
        reasons,
        autonomy,
        taint: context.taint ?? { tainted: false, args: [] },
        ...(decision.type === 'require_approval' ? { requiredApprovers } : {}),
        ...(decided.killSwitch ? { killSwitch: decided.killSwitch } : {}),
      });
      const credential = decision.type === 'allow' ? prepareCredential(context, tool, args) : null;
      // Write-ahead: the request, the decision and the credential minted for the call are durable
      // before the call has any effect (a failed mint is the call's failure, which `execute` reports).
      await Promise.all([recorded, decisionRecorded, credential?.then(noop, noop)]);
      return act(context, tool, args, {
        decision,
        tier,
        policyVersion,
        notify,
        autonomy,
        requiredApprovers,
        credential,
      });
    },
    endRun: (runId, reason, audit) => credentials.endRun(runId, reason, audit),
    async close() {
      await Promise.all(connections.map((connection) => connection.close()));
    },
  };
}
