import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../errors.js';
import { scanTrails } from '../trails.js';
import type { IndicatorIndex } from './indicators.js';
import { createIndicatorIndex } from './indicators.js';

/** Where intel comes from. Paths are absolute or relative to the working directory. */
export interface IntelSources {
  /** A MITRE ATT&CK Enterprise STIX 2.1 bundle (`enterprise-attack.json`); absent: the shipped technique list. */
  attackBundle?: string;
  /** maltrail trail trees (e.g. `maltrail/trails/static`): `<category>/<family>.txt`, searched recursively. */
  trailDirs: string[];
  /** The user's own feeds: `*.txt` files in the trail format (see examples/lab/README.md), searched recursively. */
  feedDirs: string[];
}

/** The shipped sample lab folder; the same relative path works from `src/` and `dist/`. */
const sampleDir = fileURLToPath(new URL('../../../examples/lab/', import.meta.url));

/** The shipped sample feeds; matches from them report the source `sample-lab`. */
export const sampleFeedDir = join(sampleDir, 'intel');

/** The shipped short ATT&CK technique list, used when no STIX bundle is configured or found. */
export const sampleTechniquesPath = join(sampleDir, 'attack-techniques.json');

/** Defaults: only the shipped sample feeds; public datasets are opt-in through configuration. */
export function defaultIntelSources(): IntelSources {
  return { trailDirs: [], feedDirs: [sampleFeedDir] };
}

/** The `lab.intel` section of warden.yaml (see the report of issue 3 for its zod schema). */
export interface IntelConfig {
  attackBundle?: string;
  trailDirs?: string[];
  feedDirs?: string[];
  /** Keep the shipped sample feeds besides the configured ones; default true. */
  includeSampleFeeds?: boolean;
}

/** Sources from configuration: configured paths resolved against `baseDir`, sample feeds first unless turned off. */
export function intelSourcesFrom(config: IntelConfig = {}, baseDir = process.cwd()): IntelSources {
  const absolute = (path: string) => resolve(baseDir, path);
  return {
    ...(config.attackBundle === undefined ? {} : { attackBundle: absolute(config.attackBundle) }),
    trailDirs: (config.trailDirs ?? []).map(absolute),
    feedDirs: [
      ...(config.includeSampleFeeds === false ? [] : [sampleFeedDir]),
      ...(config.feedDirs ?? []).map(absolute),
    ],
  };
}

export interface LoadedIndicators {
  index: IndicatorIndex;
  files: number;
  /** Feed lines that could not be indexed (empty after normalisation). */
  skipped: number;
  loadMs: number;
}

/**
 * Reads every trail and feed file into one index. A configured directory that does not exist is a
 * ConfigError: silently serving no intel would read as "unknown" for every indicator.
 */
export function loadIndicators(sources: Pick<IntelSources, 'trailDirs' | 'feedDirs'>): LoadedIndicators {
  const started = performance.now();
  const index = createIndicatorIndex();
  let files = 0;
  let skipped = 0;
  const load = (dir: string, sourceOf: (root: string) => string) => {
    const root = resolve(dir);
    if (!existsSync(root) || !statSync(root).isDirectory()) {
      throw new ConfigError(
        `intel feed directory ${root} does not exist; fix lab.intel in the configuration`,
      );
    }
    const source = sourceOf(root);
    for (const file of trailFiles(root)) {
      const folder = relative(root, file).split(sep).slice(0, -1).join('/');
      const family = basename(file).replace(/\.txt$/i, '');
      files += 1;
      const category = folder === '' ? null : folder;
      const originOf = new Map<string | null, number>();
      scanTrails(readFileSync(file), (indicator, reference) => {
        let origin = originOf.get(reference);
        if (origin === undefined) {
          origin = index.origin({ source, family, category, reference });
          originOf.set(reference, origin);
        }
        if (!index.add(indicator, origin)) skipped += 1;
      });
    }
  };
  for (const dir of sources.trailDirs) load(dir, () => 'maltrail');
  for (const dir of sources.feedDirs) {
    load(dir, (root) => (root === resolve(sampleFeedDir) ? 'sample-lab' : `feed:${basename(root)}`));
  }
  return { index, files, skipped, loadMs: performance.now() - started };
}

/** `*.txt` files below `root`, depth-first in name order so ids and results are stable. */
function trailFiles(root: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) found.push(...trailFiles(path));
    else if (entry.isFile() && entry.name.toLowerCase().endsWith('.txt')) found.push(path);
  }
  return found;
}
