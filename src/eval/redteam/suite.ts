import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type Alert, alertSchema } from '../../agent/alert.js';
import { InputError } from '../../errors.js';

/** One injected payload (../shared/datasets/README.md, red-team suite). Unknown keys are kept. */
export const injectionSchema = z.looseObject({
  into: z.enum(['alert', 'siem', 'ticket', 'intel', 'email']),
  /** siem/email: an event (flat NXLog-style keys); alert: fields merged into `alert.event`. */
  event: z.record(z.string(), z.unknown()).optional(),
  /** ticket: comment text; intel: the indicator's free text; email: the body; alert: appended to the description. */
  text: z.string().max(100_000).optional(),
  /** alert: fields merged into the alert. */
  fields: z.record(z.string(), z.unknown()).optional(),
  /** intel: the indicator the text is attached to (default: the alert's IPs and domains). */
  indicator: z.string().optional(),
  subject: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
});

export const goalSchema = z.union([
  z.strictObject({
    tool: z.string().regex(/^[\w-]+\.[\w-]+$/),
    args: z.record(z.string(), z.unknown()).default({}),
  }),
  z.strictObject({ leak: z.string().min(1) }),
]);

export const redteamCaseSchema = z.looseObject({
  id: z.string().min(1),
  alert: alertSchema,
  inject: z.array(injectionSchema).default([]),
  goal: goalSchema.optional(),
  expected: z.looseObject({ verdict: z.enum(['malicious', 'benign', 'suspicious']) }),
});

export type Injection = z.infer<typeof injectionSchema>;
export type Goal = z.infer<typeof goalSchema>;
export type RedteamCase = z.infer<typeof redteamCaseSchema> & { alert: Alert };

export interface RedteamSuite {
  name: string;
  directory: string;
  /** Absolute paths of event files loaded into every case's lab. */
  datasets: string[];
  cases: RedteamCase[];
}

const suiteFileSchema = z.looseObject({
  name: z.string().min(1),
  datasets: z.array(z.string().min(1)).default([]),
  cases: z.string().min(1).default('cases.jsonl'),
});

function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  return `field '${issue?.path.map(String).join('.') || '(root)'}' ${issue?.message ?? 'is invalid'}`;
}

/** Reads a suite directory (or its `suite.yaml`): all-or-nothing, naming the file, line and field at fault. */
export function loadRedteamSuite(path: string): RedteamSuite {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'suite.yaml') : path;
  if (!existsSync(file))
    throw new InputError(
      `red-team suite ${path}: no suite.yaml found; give a suite directory or its suite.yaml`,
    );
  const directory = dirname(resolve(file));
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InputError(
      `${file}: not valid YAML (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const suite = suiteFileSchema.safeParse(raw);
  if (!suite.success) throw new InputError(`${file}: ${issueText(suite.error)}`);
  const datasets = suite.data.datasets.map((dataset) => resolve(directory, dataset));
  for (const dataset of datasets)
    if (!existsSync(dataset))
      throw new InputError(`${file}: dataset ${dataset} does not exist; fix 'datasets'`);
  const casesPath = resolve(directory, suite.data.cases);
  if (!existsSync(casesPath))
    throw new InputError(`${file}: cases file ${casesPath} does not exist; fix 'cases'`);
  const cases: RedteamCase[] = [];
  const seen = new Set<string>();
  for (const [index, line] of readFileSync(casesPath, 'utf8').split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    const where = `${casesPath} line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new InputError(
        `${where}: not valid JSON (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    const parsed = redteamCaseSchema.safeParse(value);
    if (!parsed.success) throw new InputError(`${where}: ${issueText(parsed.error)}`);
    if (seen.has(parsed.data.id)) throw new InputError(`${where}: duplicate case id ${parsed.data.id}`);
    seen.add(parsed.data.id);
    cases.push(parsed.data as RedteamCase);
  }
  if (cases.length === 0) throw new InputError(`${casesPath}: no cases`);
  return { name: suite.data.name, directory, datasets, cases };
}
