import { z } from 'zod';
import type { Skill } from '../knowledge/index.js';
import { SUBMIT_VERDICT_TOOL, type ToolSpec } from '../model/provider.js';
import { type Verdict, verdictSchema } from './verdict.js';

export const LOAD_SKILL_TOOL = 'load_skill';
export const READ_SKILL_RESOURCE_TOOL = 'read_skill_resource';

/** Tools the loop answers itself: they never reach the gateway and act on nothing. */
export function localToolSpecs(skills: readonly Skill[]): ToolSpec[] {
  const specs: ToolSpec[] = [
    {
      name: SUBMIT_VERDICT_TOOL,
      // What the verdict holds, how evidence cites refs and that actions are recommended, not taken, is
      // in the system prompt, which every turn sends with this definition.
      description: 'Submit the final verdict of this investigation, once.',
      inputSchema: z.toJSONSchema(verdictSchema) as Record<string, unknown>,
    },
  ];
  if (skills.length > 0) {
    // Skill names are plain strings, not enums: the skill index in the first message lists them,
    // every turn resends it, and the loop refuses a name that is not in it (`unknown_skill`).
    specs.push({
      name: LOAD_SKILL_TOOL,
      description:
        'Load one runbook (Agent Skill) of the skill index by its name: its instructions and the list of its resource files.',
      inputSchema: z.toJSONSchema(z.object({ name: z.string().min(1) })) as Record<string, unknown>,
    });
    if (skills.some((skill) => skill.resources.length > 0)) {
      specs.push({
        name: READ_SKILL_RESOURCE_TOOL,
        description:
          'Read one resource file of a loaded runbook, by a path its load_skill result lists (e.g. checklist.yaml).',
        inputSchema: z.toJSONSchema(
          z.object({
            skill: z.string().min(1).describe('Name of the runbook'),
            path: z.string().min(1).max(512),
          }),
        ) as Record<string, unknown>,
      });
    }
  }
  return specs;
}

export type VerdictCheck = { type: 'valid'; verdict: Verdict } | { type: 'invalid'; message: string };

/** Validates a submitted verdict against the schema and checks that every cited ref was shown to the model. */
export function checkVerdict(input: unknown, knownRefs: readonly string[]): VerdictCheck {
  const parsed = verdictSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.map(String).join('.') || '(verdict)'}: ${issue.message}`);
    return { type: 'invalid', message: `the verdict does not match the schema: ${issues.join('; ')}` };
  }
  const known = new Set(knownRefs);
  const unknown = parsed.data.evidence.flatMap((item) => item.refs).filter((ref) => !known.has(ref));
  if (unknown.length > 0) {
    return {
      type: 'invalid',
      message: `evidence cites refs that are not in this investigation: ${[...new Set(unknown)].slice(0, 5).join(', ')}`,
    };
  }
  return { type: 'valid', verdict: parsed.data };
}
