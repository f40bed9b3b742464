import { z } from 'zod';
import type { GroupInfo, IndicatorVerdict, SoftwareInfo, TechniqueDetail } from '../../backends/types.js';
import { indicatorTypeSchema } from '../schemas.js';

/** Zod mirrors of the intel result types (checked with `satisfies`), used as MCP output schemas. */

export const indicatorVerdictSchema = z.object({
  value: z.string(),
  type: indicatorTypeSchema,
  verdict: z.enum(['malicious', 'suspicious', 'unknown']),
  matches: z.array(
    z.object({
      source: z.string(),
      family: z.string(),
      reference: z.string().nullable(),
      category: z.string().nullable().optional(),
      matched: z.string().optional(),
      matchedOn: z.enum(['exact', 'parent_domain', 'cidr', 'url_prefix', 'url_host', 'url_path']).optional(),
    }),
  ),
}) satisfies z.ZodType<IndicatorVerdict>;

const attackSourceSchema = z.enum(['attack-stix', 'sample-techniques']);
const attackRefSchema = z.object({ id: z.string(), name: z.string() });

export const techniqueDetailSchema = z.object({
  id: z.string(),
  name: z.string(),
  tactics: z.array(z.string()),
  description: z.string(),
  url: z.string(),
  parent: z.string().nullable(),
  platforms: z.array(z.string()),
  dataSources: z.array(z.string()),
  detections: z.array(attackRefSchema),
  deprecated: z.boolean(),
  revoked: z.boolean(),
  revokedBy: z.string().nullable(),
  source: attackSourceSchema,
}) satisfies z.ZodType<TechniqueDetail>;

export const groupInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  aliases: z.array(z.string()),
  description: z.string(),
  url: z.string(),
  techniques: z.array(attackRefSchema),
  software: z.array(attackRefSchema),
  deprecated: z.boolean(),
  revoked: z.boolean(),
  source: attackSourceSchema,
}) satisfies z.ZodType<GroupInfo>;

export const softwareInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(['malware', 'tool']),
  aliases: z.array(z.string()),
  platforms: z.array(z.string()),
  description: z.string(),
  url: z.string(),
  techniques: z.array(attackRefSchema),
  groups: z.array(attackRefSchema),
  deprecated: z.boolean(),
  revoked: z.boolean(),
  source: attackSourceSchema,
}) satisfies z.ZodType<SoftwareInfo>;
