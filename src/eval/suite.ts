import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type Alert, parseAlerts } from '../agent/index.js';
import { InputError } from '../errors.js';

/** What a case is expected to be; `suspicious` is never expected (it is the analyst's escalation). */
export type ExpectedVerdict = 'malicious' | 'benign';

export interface EvalCase {
  id: string;
  alert: Alert;
  expected: { verdict: ExpectedVerdict; techniques: string[] };
  /** The dataset the case came from, when the suite builder recorded it. */
  dataset?: string;
}

export interface EvalSuite {
  name: string;
  /** Absolute path of the suite directory. */
  directory: string;
  /** Absolute paths of the event files loaded before the cases run. */
  datasets: string[];
  cases: EvalCase[];
}

const suiteFileSchema = z.looseObject({
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9][\w.-]*$/,
      'letters, digits, dot, dash or underscore, starting with a letter or digit',
    ),
  datasets: z.array(z.string().min(1)).default([]),
  cases: z.string().min(1).default('cases.jsonl'),
});

const caseSchema = z.looseObject({
  id: z.string().min(1).max(256),
  alert: z.unknown(),
  expected: z.looseObject({
    verdict: z.enum(['malicious', 'benign']),
    techniques: z
      .array(z.string().regex(/^T\d{4}(\.\d{3})?$/, 'an ATT&CK technique id such as T1218.005'))
      .default([]),
  }),
  dataset: z.string().optional(),
});

function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  const field = issue?.path.map(String).join('.') || '(root)';
  const missing = issue?.code === 'invalid_type' && issue.input === undefined;
  return `field '${field}' ${missing ? 'is missing' : `is invalid: ${issue?.message ?? 'invalid'}`}`;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new InputError(`cannot read ${what} ${path}: ${code}`, { cause: error });
  }
}

/** Parses cases.jsonl: every bad line is named with its number and field; nothing is returned when one is bad. */
export function parseCases(text: string, source: string): EvalCase[] {
  const cases: EvalCase[] = [];
  const seen = new Map<string, number>();
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    const where = `${source} line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new InputError(
        `${where}: not valid JSON (${error instanceof Error ? error.message : String(error)}); each line is one case object`,
      );
    }
    const parsed = caseSchema.safeParse(value);
    if (!parsed.success)
      throw new InputError(
        `${where}: ${issueText(parsed.error)}; a case is {id, alert, expected: {verdict}}`,
      );
    const first = seen.get(parsed.data.id);
    if (first !== undefined)
      throw new InputError(
        `${where}: case id '${parsed.data.id}' repeats line ${first}; case ids must be unique`,
      );
    seen.set(parsed.data.id, index + 1);
    if (
      parsed.data.alert === null ||
      typeof parsed.data.alert !== 'object' ||
      Array.isArray(parsed.data.alert)
    )
      throw new InputError(`${where}: field 'alert' must be a generic alert v1 object`);
    const [alert] = parseAlerts(JSON.stringify(parsed.data.alert), `${where} alert`);
    cases.push({
      id: parsed.data.id,
      alert: alert as Alert,
      expected: { verdict: parsed.data.expected.verdict, techniques: parsed.data.expected.techniques },
      ...(parsed.data.dataset ? { dataset: parsed.data.dataset } : {}),
    });
  }
  if (cases.length === 0) throw new InputError(`${source}: no cases; write one case object per line`);
  return cases;
}

/** Loads `suite.yaml` (a suite directory, or the file itself) and its cases. Paths are relative to the suite directory. */
export async function loadSuite(path: string): Promise<EvalSuite> {
  const file =
    path.endsWith('.yaml') || path.endsWith('.yml') ? resolve(path) : join(resolve(path), 'suite.yaml');
  const directory = dirname(file);
  let document: unknown;
  try {
    document = parseYaml(await readText(file, 'eval suite'));
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`${file}: not valid YAML (${(error as Error).message})`, { cause: error });
  }
  const parsed = suiteFileSchema.safeParse(document ?? {});
  if (!parsed.success)
    throw new InputError(`${file}: ${issueText(parsed.error)}; see the eval suite format in the README`);
  const casesFile = resolve(directory, parsed.data.cases);
  return {
    name: parsed.data.name,
    directory,
    datasets: parsed.data.datasets.map((dataset) => resolve(directory, dataset)),
    cases: parseCases(await readText(casesFile, 'eval cases'), casesFile),
  };
}
