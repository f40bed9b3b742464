import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from '../../errors.js';
import {
  type AttackerCommand,
  type ListedImplant,
  parseAttackerCommands,
  parseListedImplants,
} from './commands.js';

/** What a Security-Datasets `_metadata/*.yaml` says about one simulation. */
export interface DatasetMetadata {
  id: string;
  title: string;
  path: string;
  techniques: string[];
  /** Basenames of the archives the metadata describes (from `files[].link`). */
  archives: string[];
  commands: AttackerCommand[];
  /** C2 agents the adversary view lists by machine, process and PID. */
  implants: ListedImplant[];
}

const metadataSchema = z.looseObject({
  id: z.string().min(1),
  title: z.string().default(''),
  attack_mappings: z
    .array(
      z.looseObject({
        technique: z.string().regex(/^T\d{4}$/),
        'sub-technique': z.union([z.string(), z.number()]).nullish(),
      }),
    )
    .nullish(),
  files: z.array(z.looseObject({ link: z.string() })).nullish(),
  simulation: z.looseObject({ adversary_view: z.string().nullish() }).nullish(),
});

export function parseMetadata(text: string, path: string): DatasetMetadata {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new InputError(`${path}: not valid YAML (${(error as Error).message})`, { cause: error });
  }
  const parsed = metadataSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(
      `${path}: field '${issue?.path.join('.') || '(root)'}' is invalid (${issue?.message})`,
    );
  }
  const data = parsed.data;
  const techniques = (data.attack_mappings ?? []).map((mapping) => {
    const sub = mapping['sub-technique'];
    return sub === null || sub === undefined || sub === ''
      ? mapping.technique
      : `${mapping.technique}.${String(sub).padStart(3, '0')}`;
  });
  return {
    id: data.id,
    title: data.title,
    path,
    techniques: [...new Set(techniques)],
    archives: (data.files ?? []).map((file) => basename(new URL(file.link, 'file:///').pathname)),
    commands: parseAttackerCommands(data.simulation?.adversary_view ?? ''),
    implants: parseListedImplants(data.simulation?.adversary_view ?? ''),
  };
}

/** The `_metadata` folders beside or above a dataset archive (Security-Datasets keeps one per collection). */
export function metadataDirsFor(archive: string, levels = 6): string[] {
  const found: string[] = [];
  let directory = dirname(archive);
  for (let level = 0; level < levels; level++) {
    const candidate = join(directory, '_metadata');
    if (existsSync(candidate)) found.push(candidate);
    const parent = dirname(directory);
    if (parent === directory) break;
    directory = parent;
  }
  return found;
}

/** Reads every metadata file of the folders, indexed by the archive basenames they describe. */
export async function readMetadataIndex(
  directories: readonly string[],
): Promise<Map<string, DatasetMetadata>> {
  const index = new Map<string, DatasetMetadata>();
  for (const directory of new Set(directories)) {
    for (const entry of (await readdir(directory)).sort()) {
      if (!/\.ya?ml$/.test(entry)) continue;
      const path = join(directory, entry);
      const metadata = parseMetadata(await readFile(path, 'utf8'), path);
      for (const archive of metadata.archives) index.set(archive, metadata);
    }
  }
  return index;
}
