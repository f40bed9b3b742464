import type { WardenConfig } from '../config/index.js';
import { findKillSwitch, type KillSwitch, type KillSwitchBoard, killReason } from '../control/index.js';
import type { LoopState } from './state.js';

export type RunStop =
  | { type: 'killed'; engaged: KillSwitch; reason: string }
  | { type: 'budget'; cap: string; limit: number; used: number; reason: string };

export interface RunGuard {
  /** Aborted when a kill switch for everything or this run is engaged, or when the caller's signal aborts. */
  readonly signal: AbortSignal;
  /** The reason this run must stop now, if any: a kill switch, then the token, cost and time budgets. */
  check(): RunStop | null;
  /** Active time of the run so far, across pauses. */
  elapsedMs(): number;
  close(): void;
}

const KILL_POLL_MS = 200;

/**
 * Watches one run segment (from start or resume to end or pause): polls the kill-switch board so
 * an engage from another process aborts the in-flight model or tool call within a poll.
 */
export function guardRun(options: {
  runId: string;
  state: LoopState;
  config: WardenConfig;
  killSwitches?: KillSwitchBoard;
  signal?: AbortSignal;
  now: () => Date;
}): RunGuard {
  const { runId, state, config, killSwitches } = options;
  const startedAt = options.now().getTime();
  const controller = new AbortController();
  const killSwitch = () => (killSwitches ? findKillSwitch(killSwitches.current(), { runId }) : null);
  const poll = setInterval(() => {
    try {
      const engaged = killSwitch();
      if (engaged) controller.abort(new Error(killReason(engaged)));
    } catch (error) {
      // Unreadable kill-switch state fails closed: stop the run.
      controller.abort(error);
    }
  }, KILL_POLL_MS);
  poll.unref();
  const signal = options.signal ? AbortSignal.any([controller.signal, options.signal]) : controller.signal;
  const elapsedMs = () => state.activeMs + (options.now().getTime() - startedAt);
  return {
    signal,
    elapsedMs,
    check() {
      const engaged = killSwitch();
      if (engaged) return { type: 'killed', engaged, reason: killReason(engaged) };
      const { maxTokens, maxSeconds } = config.limits;
      if (state.tokens >= maxTokens) {
        return {
          type: 'budget',
          cap: 'limits.maxTokens',
          limit: maxTokens,
          used: state.tokens,
          reason: `budget: limits.maxTokens (${maxTokens}) exceeded, ${state.tokens} used`,
        };
      }
      const { maxCostUsd } = config.limits;
      const spent = state.costUsd ?? 0;
      if (maxCostUsd !== undefined && spent > maxCostUsd) {
        const used = Math.round(spent * 1e6) / 1e6;
        return {
          type: 'budget',
          cap: 'limits.maxCostUsd',
          limit: maxCostUsd,
          used,
          reason: `budget: limits.maxCostUsd ($${maxCostUsd}) exceeded, $${used} spent`,
        };
      }
      const seconds = Math.round(elapsedMs() / 100) / 10;
      if (seconds >= maxSeconds) {
        return {
          type: 'budget',
          cap: 'limits.maxSeconds',
          limit: maxSeconds,
          used: seconds,
          reason: `budget: limits.maxSeconds (${maxSeconds}) exceeded, ${seconds} s active`,
        };
      }
      return null;
    },
    close() {
      clearInterval(poll);
    },
  };
}
