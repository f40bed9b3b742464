import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import type {
  AttackSource,
  GroupInfo,
  SoftwareInfo,
  TechniqueDetail,
  TechniqueInfo,
} from '../../capability/backends/types.js';
import { InputError } from '../../errors.js';
import { logger } from '../../logging.js';
import { sampleTechniquesPath } from './sources.js';
import type { AttackCatalogue } from './stix.js';
import { readAttackBundle } from './stix.js';

/** ATT&CK lookups over one loaded catalogue; names and aliases compare case-insensitively. */
export interface AttackReference {
  readonly source: AttackSource;
  readonly counts: { techniques: number; groups: number; software: number };
  /** By normalised id (`T1059.001`). */
  technique(id: string): TechniqueDetail | null;
  /** Every technique with this name or `Parent: Sub` name; active ones only when there are any. */
  techniquesNamed(name: string): TechniqueDetail[];
  group(idOrName: string): GroupInfo | null;
  software(idOrName: string): SoftwareInfo | null;
}

export interface LoadedAttack {
  reference: AttackReference;
  loadMs: number;
}

/**
 * Loads the STIX bundle when one is configured and present, else the shipped technique list
 * (techniques only; every result then says `source: "sample-techniques"`).
 */
export function loadAttackReference(bundlePath: string | undefined): LoadedAttack {
  const started = performance.now();
  let catalogue: AttackCatalogue;
  let source: AttackSource = 'attack-stix';
  const path = bundlePath === undefined ? undefined : resolve(bundlePath);
  if (path !== undefined && existsSync(path)) {
    let bundle: unknown;
    try {
      bundle = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new InputError(`${path} is not valid JSON`, { cause: error });
    }
    catalogue = readAttackBundle(bundle, path);
  } else {
    if (path !== undefined)
      logger.warn({ path }, 'ATT&CK bundle not found; using the shipped technique list');
    catalogue = {
      techniques: readSampleTechniques(sampleTechniquesPath).map(toDetail),
      groups: [],
      software: [],
    };
    source = 'sample-techniques';
  }
  return { reference: createAttackReference(catalogue, source), loadMs: performance.now() - started };
}

/** Indexes a catalogue by id, name and alias. */
export function createAttackReference(catalogue: AttackCatalogue, source: AttackSource): AttackReference {
  const techniques = new Map(
    catalogue.techniques.map((technique) => [technique.id.toUpperCase(), technique]),
  );
  const techniqueNames = new Map<string, TechniqueDetail[]>();
  for (const technique of catalogue.techniques) {
    const parentName = technique.parent ? techniques.get(technique.parent)?.name : undefined;
    addName(techniqueNames, technique.name, technique);
    if (parentName) addName(techniqueNames, `${parentName}: ${technique.name}`, technique);
  }
  const groups = byIdNameAndAlias(catalogue.groups);
  const software = byIdNameAndAlias(catalogue.software);
  return {
    source,
    counts: {
      techniques: catalogue.techniques.length,
      groups: catalogue.groups.length,
      software: catalogue.software.length,
    },
    technique: (id) => techniques.get(id.toUpperCase()) ?? null,
    techniquesNamed: (name) => preferActive(techniqueNames.get(key(name)) ?? []),
    group: (query) => preferActive(groups.get(key(query)) ?? [])[0] ?? null,
    software: (query) => preferActive(software.get(key(query)) ?? [])[0] ?? null,
  };
}

/** A technique from the short shipped list, with the fields only the bundle knows left empty. */
export function toDetail(technique: TechniqueInfo): TechniqueDetail {
  return {
    ...technique,
    parent: technique.id.includes('.') ? (technique.id.split('.')[0] ?? null) : null,
    platforms: [],
    dataSources: [],
    detections: [],
    deprecated: false,
    revoked: false,
    revokedBy: null,
    source: 'sample-techniques',
  };
}

const sampleTechniquesSchema = z.array(
  z.object({
    id: z.string(),
    name: z.string(),
    tactics: z.array(z.string()),
    description: z.string(),
    url: z.string(),
  }),
);

/** Reads a technique list in the shape of examples/lab/attack-techniques.json. */
export function readSampleTechniques(path: string): TechniqueInfo[] {
  const parsed = sampleTechniquesSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success)
    throw new InputError(`${path}: ${parsed.error.issues[0]?.message ?? 'invalid techniques'}`);
  return parsed.data;
}

interface Named {
  id: string;
  name: string;
  aliases: string[];
  revoked: boolean;
  deprecated: boolean;
}

function byIdNameAndAlias<T extends Named>(items: readonly T[]): Map<string, T[]> {
  const index = new Map<string, T[]>();
  for (const item of items) {
    for (const name of new Set([item.id, item.name, ...item.aliases])) addName(index, name, item);
  }
  return index;
}

function addName<T>(index: Map<string, T[]>, name: string, item: T): void {
  const list = index.get(key(name));
  if (list) {
    if (!list.includes(item)) list.push(item);
  } else index.set(key(name), [item]);
}

function preferActive<T extends { revoked: boolean; deprecated: boolean }>(items: readonly T[]): T[] {
  const active = items.filter((item) => !item.revoked && !item.deprecated);
  return active.length > 0 ? active : [...items];
}

function key(name: string): string {
  return name.trim().toLowerCase().replace(/\s+/g, ' ');
}
