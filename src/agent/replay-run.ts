import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway } from '../capability/gateway/index.js';
import { configSchema, type WardenConfig } from '../config/index.js';
import type { AssetRegistry } from '../control/index.js';
import { StateError } from '../errors.js';
import type { Skill } from '../knowledge/index.js';
import { type AuditEventRecord, canonicalJson, openStore, type Store } from '../store/index.js';
import type { Alert } from './alert.js';
import { recordDecision } from './decide.js';
import { type LoopDeps, type RunOutcome, resumeRun, startRun } from './loop.js';
import {
  type ReplayCursor,
  replayClock,
  replayConnections,
  replayKillSwitches,
  replayProvider,
} from './replay-sources.js';

/** One decision of a run, as compared between the recording and its replay. */
export interface TrailDecision {
  seq: number;
  text: string;
}

export interface RunReplay {
  runId: string;
  /** Decisions compared (policy, approvals, skills, kill, budget, verdict, run end). */
  compared: number;
  recordedStatus: string | null;
  replayedStatus: string;
  /** The first decision that came out differently (or the end state, when only that differs); null when all match. */
  divergence: { recorded: TrailDecision | null; replayed: TrailDecision | null } | null;
}

type Data = Record<string, unknown>;

/**
 * The decisions in a run's trail, in order, each as one comparable line. Approval ids are random
 * per store, so each is written as its order of appearance (`approval#1`).
 */
export function decisionTrail(events: readonly AuditEventRecord[]): TrailDecision[] {
  const trail: TrailDecision[] = [];
  const approvalIds: string[] = [];
  for (const event of events) {
    const data = (event.data ?? {}) as Data;
    if (event.type === 'tool-approval-request' && typeof data.approvalId === 'string')
      approvalIds.push(data.approvalId);
    const text = (() => {
      switch (event.type) {
        case 'policy-decision':
          return `policy ${data.tool}: ${data.decision} by ${data.check} (${data.reason})`;
        case 'tool-approval-request':
          return `approval requested: ${data.tool} ${data.argsHash}`;
        case 'tool-approval-response':
          return `approval ${data.status} by ${data.by}`;
        case 'skill-load':
          return `skill ${data.name} ${data.hash}`;
        case 'kill-switch-engage':
          return `kill switch ${data.switchId}`;
        case 'budget-exceeded':
          return `budget ${data.cap} exceeded`;
        case 'run-verdict':
          return `verdict ${canonicalJson(data.verdict ?? null)}`;
        case 'run-end':
          return `run end ${data.status}${data.error ? `: ${data.error}` : ''}`;
        default:
          return null;
      }
    })();
    if (text !== null) trail.push({ seq: event.seq, text });
  }
  return trail.map(({ seq, text }) => ({
    seq,
    text: approvalIds.reduce((line, id, index) => line.replaceAll(id, `approval#${index + 1}`), text),
  }));
}

/** The live config with the policy parts the run recorded (run-start `policy`), so it decides as it did then. */
function recordedConfig(start: Data, config: WardenConfig): WardenConfig {
  if (!start.policy || typeof start.policy !== 'object') return config;
  const parsed = configSchema.safeParse({ ...config, ...(start.policy as Data) });
  return parsed.success ? parsed.data : config;
}

/**
 * Drives the agent loop again over a recorded run: model responses and tool results come from
 * the recording, approvals are decided as they were, everything is written to a scratch store
 * that is removed afterwards. Nothing reaches a server, a model or the network.
 */
export async function replayRun(
  runId: string,
  events: readonly AuditEventRecord[],
  options: { config: WardenConfig; skills: readonly Skill[]; assets?: AssetRegistry },
): Promise<RunReplay> {
  const start = events.find((event) => event.type === 'run-start');
  if (!start) throw new StateError(`run ${runId} has no run-start event: nothing to replay`);
  const startData = (start.data ?? {}) as Data;
  const config = recordedConfig(startData, options.config);
  const home = mkdtempSync(join(tmpdir(), 'warden-replay-'));
  const cursor: ReplayCursor = { appended: 0 };
  let scratch: Store | null = null;
  let gateway: Awaited<ReturnType<typeof createGateway>> | null = null;
  try {
    scratch = await openStore({ home });
    const store: Store = {
      ...scratch,
      audit: {
        ...scratch.audit,
        append: async (run, type, data, at) => {
          const event = await (scratch as Store).audit.append(run, type, data, at);
          if (run === runId) cursor.appended = event.seq;
          return event;
        },
        enqueue: async (run, type, data, at) => {
          const queued = await (scratch as Store).audit.enqueue(run, type, data, at);
          if (run === runId) cursor.appended = queued.event.seq;
          return queued;
        },
      },
    };
    const killSwitches = replayKillSwitches(events, cursor);
    gateway = await createGateway({
      config,
      home,
      connections: await replayConnections(events),
      killSwitches,
      ...(options.assets ? { assets: options.assets } : {}),
    });
    const now = replayClock(events, cursor);
    const deps: LoopDeps = {
      store,
      gateway,
      provider: replayProvider(events, String(startData.provider ?? 'replay')),
      skills: options.skills,
      config,
      killSwitches,
      now,
    };
    let outcome: RunOutcome = await startRun(deps, startData.alert as Alert, {
      runId,
      ...(typeof startData.request === 'string' ? { request: startData.request } : {}),
    });
    const requests = events.filter((event) => event.type === 'tool-approval-request');
    for (let pause = 0; outcome.status === 'awaiting_approval' && outcome.pendingApproval; pause++) {
      const recordedId = (requests[pause]?.data as Data | undefined)?.approvalId;
      const responses = events.filter(
        (event) => event.type === 'tool-approval-response' && (event.data as Data).approvalId === recordedId,
      );
      if (recordedId === undefined || responses.length === 0) break;
      for (const response of responses) {
        const data = response.data as Data;
        // An expiry is no one's decision: the resumed run finds the approval past its time.
        if (data.status === 'expired') continue;
        await recordDecision(store, home, {
          approvalId: outcome.pendingApproval.id,
          status: data.status === 'denied' ? 'denied' : 'approved',
          by: String(data.by),
          note: (data.note as string | null | undefined) ?? null,
          now: now(),
        });
      }
      outcome = await resumeRun(deps, runId);
    }
    const recorded = decisionTrail(events);
    const replayed = decisionTrail(await store.audit.list(runId));
    let divergence: RunReplay['divergence'] = null;
    for (let index = 0; index < Math.max(recorded.length, replayed.length); index++) {
      if (recorded[index]?.text !== replayed[index]?.text) {
        divergence = { recorded: recorded[index] ?? null, replayed: replayed[index] ?? null };
        break;
      }
    }
    const ends = events.filter((event) => event.type === 'run-end');
    const lastEnd = ends.at(-1);
    const recordedStatus = lastEnd
      ? String((lastEnd.data as Data).status)
      : requests.length > 0
        ? 'awaiting_approval'
        : null;
    if (!divergence && recordedStatus !== outcome.status)
      divergence = {
        recorded: { seq: events.at(-1)?.seq ?? 0, text: `run ${recordedStatus ?? 'unfinished'}` },
        replayed: { seq: cursor.appended, text: `run ${outcome.status}` },
      };
    return {
      runId,
      compared: Math.min(recorded.length, replayed.length),
      recordedStatus,
      replayedStatus: outcome.status,
      divergence,
    };
  } finally {
    await gateway?.close();
    await scratch?.close();
    rmSync(home, { recursive: true, force: true, maxRetries: 5 });
  }
}
