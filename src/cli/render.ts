import pc from 'picocolors';
import type { RunOutcome } from '../agent/index.js';
import type { ApprovalRecord, AuditEventRecord, RunRecord } from '../store/index.js';
import { selfCommand } from './self.js';

/** One-line JSON of a value, cut to `max` characters. */
export function brief(value: unknown, max = 120): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === undefined) return '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const verdictColour = { malicious: pc.red, suspicious: pc.yellow, benign: pc.green } as const;

export function renderApproval(approval: ApprovalRecord, now = new Date()): string {
  const expired = approval.status === 'pending' && Date.parse(approval.expiresAt) <= now.getTime();
  const status = expired ? 'expired' : approval.status;
  const decided = approval.decidedBy
    ? ` by ${approval.decidedBy}${approval.decisionNote ? ` (${approval.decisionNote})` : ''}`
    : '';
  const quorum =
    approval.requiredApprovers > 1
      ? ` (${approval.approvers.length}/${approval.requiredApprovers} approvers: ${approval.approvers.map((entry) => entry.by).join(', ') || 'none yet'})`
      : '';
  const line = `${pc.bold(approval.id)}  ${status}${quorum}${decided}  ${approval.tool} ${brief(approval.args, 100)}  run ${approval.runId}  tier ${approval.tier}  expires ${approval.expiresAt}`;
  // Taint and injection signals are what the approver most needs to see: where the arguments came from.
  const warning = /tainted arguments|injection signal/.test(approval.reason)
    ? `\n    ${pc.yellow('⚠')} ${brief(approval.reason, 600)}`
    : '';
  return `${line}${warning}`;
}

export function renderOutcome(outcome: RunOutcome): string {
  const lines: string[] = [];
  lines.push(
    `${pc.bold(`▸ ${outcome.alert.id}`)}  ${outcome.alert.title}${outcome.alert.severity ? `  (${outcome.alert.severity})` : ''}  ${pc.dim(`run ${outcome.runId}`)}`,
  );
  const verdict = outcome.verdict;
  if (verdict) {
    lines.push(
      `  verdict     ${verdictColour[verdict.verdict](pc.bold(verdict.verdict.toUpperCase()))}  confidence ${verdict.confidence.toFixed(2)}`,
    );
    lines.push(`  summary     ${verdict.summary}`);
    if (verdict.techniques.length > 0) lines.push(`  techniques  ${verdict.techniques.join(', ')}`);
    if (verdict.evidence.length > 0) {
      lines.push('  evidence');
      for (const item of verdict.evidence)
        lines.push(`    - ${item.claim} ${pc.dim(`[${item.refs.join(', ')}]`)}`);
    }
  }
  if (outcome.actions.length > 0 || outcome.pendingApproval) {
    lines.push('  actions');
    for (const action of outcome.actions) {
      const mark =
        action.status === 'executed'
          ? pc.green('✓')
          : action.status === 'withheld' || action.status === 'suggested'
            ? pc.yellow('–')
            : pc.red('✗');
      const notified = action.notified ? pc.yellow(' (notified: autonomy level notify)') : '';
      lines.push(
        `    ${mark} ${action.tool} ${brief(action.args, 80)}  ${action.status}${notified}: ${brief(action.detail, 100)}`,
      );
    }
    const pending = outcome.pendingApproval;
    if (pending) {
      lines.push(
        `    ${pc.yellow('⏸')} ${pending.tool} ${brief(pending.args, 80)}  ${pc.yellow('awaiting approval')} ${pc.bold(pending.id)} (${pending.tier}; expires ${pending.expiresAt})`,
      );
      lines.push(
        `      approve: ${selfCommand()} approvals approve ${pending.id}    deny: ${selfCommand()} approvals deny ${pending.id}`,
      );
    }
    for (const queued of outcome.queuedActions)
      lines.push(
        `    ${pc.dim('…')} ${queued.name} ${brief(queued.input, 80)}  ${pc.dim('queued behind the approval')}`,
      );
  }
  lines.push(`  status      ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}`);
  return lines.join('\n');
}

export function renderRun(run: RunRecord): string {
  const verdict = run.verdict as { verdict?: string; confidence?: number } | null;
  const label = verdict?.verdict ? `${verdict.verdict} ${verdict.confidence?.toFixed(2) ?? ''}` : '-';
  return `${run.id}  ${run.createdAt}  ${run.status.padEnd(17)}  ${label.padEnd(16)}  ${run.alertId}  ${run.alertTitle}`;
}

function summarise(event: AuditEventRecord): string {
  const data = (event.data ?? {}) as Record<string, unknown>;
  switch (event.type) {
    case 'run-start': {
      const alert = data.alert as { id?: string; title?: string } | undefined;
      return `alert ${alert?.id} "${alert?.title}"; provider ${data.provider}; ${(data.tools as unknown[] | undefined)?.length ?? 0} tools, ${(data.skills as unknown[] | undefined)?.length ?? 0} skills`;
    }
    case 'model-request':
      return `turn ${data.turn} → ${data.provider} (${data.messages} messages)`;
    case 'model-response': {
      if (data.error) return `turn ${data.turn} failed: ${data.error}`;
      const content =
        (data.content as Array<{ type: string; name?: string; text?: string }> | undefined) ?? [];
      const calls = content.filter((block) => block.type === 'tool_call').map((block) => block.name);
      const usage = data.usage as { inputTokens?: number; outputTokens?: number } | undefined;
      return `turn ${data.turn} ${data.model}: ${calls.length > 0 ? `calls ${calls.join(', ')}` : brief(content.map((block) => block.text ?? '').join(' '), 80)} (${usage?.inputTokens ?? 0}+${usage?.outputTokens ?? 0} tokens${typeof data.costUsd === 'number' ? `, $${data.costUsd.toFixed(4)}` : ''})`;
    }
    case 'tool-call-request':
      return `${data.callId} ${data.tool} ${brief(data.args, 90)}${data.receipt ? ` with receipt ${data.receipt}` : ''}`;
    case 'policy-decision':
      return `${data.callId} ${data.tool}: ${String(data.decision).toUpperCase()} (${data.tier ?? 'no tier'}) ${data.reason}`;
    case 'tool-approval-request':
      return `${data.approvalId} for ${data.tool} ${brief(data.args, 60)}; expires ${data.expiresAt}`;
    case 'tool-approval-response':
      return `${data.approvalId} ${data.status} by ${data.by}${data.note ? `: ${data.note}` : ''}`;
    case 'tool-call-result':
      return `${data.callId} ${data.tool} ${data.isError ? pc.red('error') : 'ok'}: ${brief(data.value, 100)}`;
    case 'skill-load':
      return `${data.name} sha256:${String(data.hash).slice(0, 16)}`;
    case 'run-verdict': {
      const verdict = data.verdict as
        | { verdict?: string; confidence?: number; techniques?: string[] }
        | undefined;
      return `${verdict?.verdict} confidence ${verdict?.confidence} ${verdict?.techniques?.join(',') ?? ''}`;
    }
    case 'kill-switch-engage':
      return `${data.switchId} engaged by ${data.engagedBy} at ${data.engagedAt}: ${data.reason}`;
    case 'credential-mint':
      return `${data.credentialId} for ${data.server} (${(data.tools as string[] | undefined)?.join(', ')})${data.argsHash ? ' bound to one call' : ''}; expires ${data.expiresAt}`;
    case 'credential-revoke':
      return `${(data.credentialIds as string[] | undefined)?.join(', ')}: ${data.reason}${data.error ? ` ${pc.red(`failed: ${data.error}`)}` : ''}`;
    case 'budget-exceeded':
      return `${data.cap}: limit ${data.limit}, used ${data.used}`;
    case 'run-end':
      return `${data.status}${data.error ? `: ${data.error}` : ''} (${data.turns} turns, ${data.toolCalls} tool calls${typeof data.costUsd === 'number' ? `, $${data.costUsd.toFixed(4)}` : ''})`;
    default:
      return brief(data);
  }
}

export function renderAuditEvent(event: AuditEventRecord): string {
  return `${pc.dim(event.id.padEnd(22))} ${event.at}  ${pc.bold(event.type.padEnd(22))} ${summarise(event)}`;
}
