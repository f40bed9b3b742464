import { z } from 'zod';
import type { IamGroup, IamOutcome, IamUser, IamUserSummary } from '../../backends/types.js';

/** Zod mirrors of the IAM result types (checked with `satisfies`), used as MCP output schemas. */

export const iamUserSummarySchema = z.object({
  user: z.string(),
  eventCount: z.number(),
  hosts: z.array(z.string()),
  lastLogon: z.string().nullable(),
  groups: z.array(z.string()),
  disabled: z.boolean(),
}) satisfies z.ZodType<IamUserSummary>;

export const iamUserSchema = iamUserSummarySchema.extend({
  disabledAt: z.string().nullable(),
  disabledReason: z.string().nullable(),
  sessionsRevokedAt: z.string().nullable(),
  sessions: z.array(
    z.object({
      host: z.string(),
      logonType: z.number(),
      sourceIp: z.string().nullable(),
      since: z.string(),
      eventId: z.string(),
    }),
  ),
  failedLogons: z.number(),
}) satisfies z.ZodType<IamUser>;

export const iamGroupSchema = z.object({
  name: z.string(),
  members: z.array(z.string()),
  sources: z.array(z.enum(['telemetry', 'inventory'])),
  description: z.string().nullable(),
}) satisfies z.ZodType<IamGroup>;

export const iamOutcomeSchema = z.object({
  user: z.string(),
  changed: z.boolean(),
  state: z.enum(['disabled', 'enabled', 'sessions_revoked']),
  at: z.string(),
  detail: z.string(),
  revokedSessions: z.number(),
}) satisfies z.ZodType<IamOutcome>;
