import { z } from 'zod';

export const verdictLabels = ['malicious', 'suspicious', 'benign'] as const;
export type VerdictLabel = (typeof verdictLabels)[number];

const techniqueId = z
  .string()
  .regex(/^T\d{4}(\.\d{3})?$/, 'an ATT&CK technique id such as T1059 or T1218.005');

export const evidenceSchema = z.object({
  claim: z.string().min(1).max(2000),
  /** Audit event ids (tool results, the alert) this claim rests on. */
  refs: z.array(z.string().min(1)).min(1, 'every evidence item must cite at least one audit event'),
});

export const recommendedActionSchema = z.object({
  tool: z.string().regex(/^[\w-]+\.[\w-]+$/, 'a tool name of the form server.tool'),
  args: z.record(z.string(), z.unknown()),
  reason: z.string().min(1).max(2000),
});

export const verdictSchema = z.object({
  verdict: z.enum(verdictLabels),
  confidence: z.number().min(0).max(1),
  summary: z.string().min(1).max(4000),
  techniques: z.array(techniqueId).max(50),
  evidence: z.array(evidenceSchema).max(100),
  recommendedActions: z.array(recommendedActionSchema).max(20),
});

export type Evidence = z.infer<typeof evidenceSchema>;
export type RecommendedAction = z.infer<typeof recommendedActionSchema>;
export type Verdict = z.infer<typeof verdictSchema>;
