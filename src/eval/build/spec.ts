import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from '../../errors.js';
import { ruleLevels } from './builder.js';

/**
 * A suite definition the project keeps (`evals/<name>/build.yaml`): which archives and rules, the
 * split; the cases themselves are built on demand and never committed. Paths are relative to the file.
 */
const specSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][\w.-]*$/, 'letters, digits, dot, dash or underscore'),
  description: z.string().optional(),
  datasets: z.array(z.string().min(1)).min(1),
  rules: z.array(z.string().min(1)).min(1),
  minLevel: z.enum(ruleLevels).default('medium'),
  seed: z.string().min(1).default('warden'),
  testShare: z.number().min(0).max(1).default(0.3),
  cap: z.number().int().positive().default(40),
});

export interface BuildSpecOptions {
  name: string;
  datasets: string[];
  rules: string[];
  out: string;
  minLevel: (typeof ruleLevels)[number];
  seed: string;
  testShare: number;
  cap: number;
  split?: 'train' | 'test';
}

/** Reads a build spec; the suite goes to `<spec dir>/<split or all>/`, named `<name>-<split>`. */
export async function readBuildSpec(path: string, split?: 'train' | 'test'): Promise<BuildSpecOptions> {
  let document: unknown;
  try {
    document = parseYaml(await readFile(path, 'utf8'));
  } catch (error) {
    throw new InputError(`cannot read build spec ${path}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = specSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(
      `${path}: field '${issue?.path.join('.') || '(root)'}' is invalid (${issue?.message})`,
    );
  }
  const base = dirname(resolve(path));
  const spec = parsed.data;
  return {
    name: `${spec.name}-${split ?? 'all'}`,
    datasets: spec.datasets.map((dataset) => resolve(base, dataset)),
    rules: spec.rules.map((rule) => resolve(base, rule)),
    out: join(base, split ?? 'all'),
    minLevel: spec.minLevel,
    seed: spec.seed,
    testShare: spec.testShare,
    cap: spec.cap,
    ...(split ? { split } : {}),
  };
}
