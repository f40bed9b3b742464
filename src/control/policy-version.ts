import type { WardenConfig } from '../config/index.js';
import { canonicalJson, sha256Hex } from '../store/index.js';

/** The parts of the config that decide what a tool call may do: recorded with every run, so it can be replayed. */
export function policyConfigOf(config: WardenConfig) {
  return {
    tiers: config.tiers,
    policy: config.policy,
    approvals: config.approvals,
    assets: config.assets,
    limits: config.limits,
    control: config.control,
  };
}

export type PolicyConfig = ReturnType<typeof policyConfigOf>;

/** Version of the effective policy: SHA-256 of the canonical JSON of `policyConfigOf(config)`. */
export function policyVersionOf(config: WardenConfig): string {
  return sha256Hex(canonicalJson(policyConfigOf(config)));
}
