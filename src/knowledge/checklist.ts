import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * `checklist.yaml`: the questions of a runbook as tool calls an analyst (the offline analyst,
 * or a human reading it) can execute, and how each answer weighs on the verdict. Format:
 * docs in skills/README.md. Parsed by the knowledge layer; executed by src/model/offline/.
 */

const duration = z
  .string()
  .regex(/^\d+[smhd]$/, 'a duration such as 15m, 2h or 1d')
  .describe('seconds (s), minutes (m), hours (h) or days (d)');
const windowSchema = z.strictObject({ before: duration.default('15m'), after: duration.default('30m') });

const fieldPath = z.string().min(1).max(100);
const pattern = z.string().min(1).max(500);

const matchSchema = z.strictObject({
  /** Dotted path inside each item of the counted list, e.g. `sourceImage` or `process.commandLine`. */
  field: fieldPath,
  /** Regular expression, case-insensitive. */
  pattern,
  /** Items whose `field` matches this are not counted (known-good sources). */
  except: z.strictObject({ field: fieldPath, pattern }).optional(),
  /** How many items must match; default 1. */
  min: z.number().int().min(1).default(1),
  /** Field of the matching items quoted as {{examples}}; default `field`. */
  show: fieldPath.optional(),
});

export const conditionSchema = z
  .strictObject({
    count_gt: z.number().int().min(0).optional(),
    count_lt: z.number().int().min(1).optional(),
    /** One test, or a list that must all hold. */
    match: z.union([matchSchema, z.array(matchSchema).min(1).max(5)]).optional(),
    no_match: z.strictObject({ field: fieldPath, pattern }).optional(),
    distinct_gt: z.strictObject({ field: fieldPath, value: z.number().int().min(0) }).optional(),
    any_gt: z.strictObject({ field: fieldPath, value: z.number() }).optional(),
  })
  .refine((condition) => Object.keys(condition).length > 0, 'give at least one test (count_gt, match, ...)');

const techniqueId = z.string().regex(/^T\d{4}(?:\.\d{3})?$/, 'an ATT&CK id such as T1003.001');

export const outcomeSchema = z.strictObject({
  /** Named finding; one signal counts once in a verdict, whichever check found it. */
  signal: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'lower-case words joined by hyphens'),
  /** Positive: evidence of malice; negative: evidence of legitimate activity. */
  weight: z.number().min(-5).max(5),
  /** One sentence for the verdict; may use {{count}}, {{matched}}, {{distinct}} and {{examples}}. */
  claim: z.string().min(1).max(500),
  techniques: z.array(techniqueId).default([]),
});

const argValue = z.union([z.string().max(1000), z.number(), z.boolean()]);

export const stepSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'lower-case words joined by hyphens'),
  question: z.string().min(1).max(300),
  /** `server.tool`, as the gateway names it. */
  tool: z.string().regex(/^[\w-]+\.[\w-]+$/, 'server.tool, e.g. siem.search_events'),
  /** Values may be templates: {{alert.host}}, {{window.from}}, {{steps.<id>.<path>}}. */
  args: z.record(z.string(), argValue).default({}),
  window: windowSchema.optional(),
  /** Path of the list (or number) in the result that is counted; default `total`, else the first list. */
  count: z.string().min(1).optional(),
  when: conditionSchema.optional(),
  /** Weighs on the verdict when `when` holds. */
  hit: outcomeSchema.optional(),
  /** Weighs on the verdict when it does not (e.g. a negative weight for a reassuring answer). */
  miss: outcomeSchema.optional(),
});

export const checklistSchema = z.strictObject({
  version: z.literal(1),
  /** The checklist applies when any trigger matches the alert. */
  triggers: z
    .strictObject({
      techniques: z.array(z.string().regex(/^T\d{4}(?:\.\d{3})?$/i)).default([]),
      processes: z.array(z.string().min(1)).default([]),
      eventIds: z.array(z.number().int().min(0)).default([]),
      keywords: z.array(z.string().min(3)).default([]),
    })
    .refine(
      (triggers) => Object.values(triggers).some((list) => list.length > 0),
      'declare at least one trigger, or the checklist never runs',
    ),
  window: windowSchema.default({ before: '15m', after: '30m' }),
  steps: z.array(stepSchema).min(1).max(20),
});

export type Checklist = z.infer<typeof checklistSchema>;
export type ChecklistStep = z.infer<typeof stepSchema>;
export type ChecklistCondition = z.infer<typeof conditionSchema>;
export type ChecklistOutcome = z.infer<typeof outcomeSchema>;
export type ChecklistMatch = z.infer<typeof matchSchema>;

export const checklistFile = 'checklist.yaml';

const templatePattern = /\{\{\s*([\w.*-]+)\s*\}\}/g;
const alertFields = [
  'host',
  'user',
  'userName',
  'processGuid',
  'parentProcessGuid',
  'image',
  'imageName',
  'parentImageName',
  'commandLine',
  'targetImage',
  'destination',
  'time',
];

/** The template variables a step's arguments use (`alert.host`, `steps.tree.process.guid`, ...). */
export function templateVariables(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return [...value.matchAll(templatePattern)].map((match) => match[1] ?? '');
}

export type ChecklistParse = { type: 'ok'; checklist: Checklist } | { type: 'invalid'; issues: string[] };

/** Parses and checks a checklist: schema, unique step ids, and templates that name known values. */
export function parseChecklist(text: string): ChecklistParse {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    return { type: 'invalid', issues: [`not valid YAML: ${(error as Error).message.split('\n')[0]}`] };
  }
  const parsed = checklistSchema.safeParse(document);
  if (!parsed.success)
    return {
      type: 'invalid',
      issues: parsed.error.issues.map(
        (issue) => `${issue.path.map(String).join('.') || '(file)'}: ${issue.message}`,
      ),
    };
  const issues: string[] = [];
  const seen = new Set<string>();
  for (const [index, step] of parsed.data.steps.entries()) {
    if (seen.has(step.id)) issues.push(`steps.${index}.id: "${step.id}" is used twice`);
    if ((step.hit || step.miss) && !step.when)
      issues.push(`steps.${index}: hit/miss without a when condition`);
    const patterns = [step.when?.match, step.when?.no_match]
      .flat()
      .flatMap((test) =>
        test ? [test.pattern, ...('except' in test && test.except ? [test.except.pattern] : [])] : [],
      );
    for (const source of patterns) {
      try {
        new RegExp(source, 'i');
      } catch (error) {
        issues.push(
          `steps.${index}.when: pattern ${JSON.stringify(source)} is not a valid regular expression (${(error as Error).message})`,
        );
      }
    }
    for (const [key, value] of Object.entries(step.args)) {
      for (const variable of templateVariables(value)) {
        const [scope, first] = variable.split('.');
        const known =
          (scope === 'alert' && alertFields.includes(first ?? '')) ||
          (scope === 'window' && (first === 'from' || first === 'to')) ||
          (scope === 'steps' && first !== undefined && seen.has(first));
        if (!known)
          issues.push(
            `steps.${index}.args.${key}: unknown template {{${variable}}} (alert.${alertFields.join('|alert.')}, window.from|to, or steps.<earlier step id>.<path>)`,
          );
      }
    }
    seen.add(step.id);
  }
  return issues.length > 0 ? { type: 'invalid', issues } : { type: 'ok', checklist: parsed.data };
}

/** Milliseconds of a checklist duration (`15m`). */
export function durationMs(value: string): number {
  const amount = Number(value.slice(0, -1));
  const unit = value.at(-1);
  const scale = unit === 's' ? 1_000 : unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 86_400_000;
  return amount * scale;
}

export { alertFields as checklistAlertFields };
