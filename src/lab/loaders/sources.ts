import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { SourceKind } from './archives.js';
import { sourceKind } from './archives.js';

export interface SourceFile {
  path: string;
  kind: SourceKind;
  size: number;
}

export interface SourceListing {
  files: SourceFile[];
  /** Paths given explicitly that are missing or of a kind the lab does not read. */
  problems: Array<{ path: string; message: string }>;
}

/** Expands files and directories (recursively, sorted) into loadable sources. */
export async function listSources(paths: readonly string[]): Promise<SourceListing> {
  const files: SourceFile[] = [];
  const problems: SourceListing['problems'] = [];
  for (const given of paths) {
    const path = resolve(given);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch {
      problems.push({ path: given, message: 'no such file or directory' });
      continue;
    }
    if (info.isDirectory()) {
      files.push(...(await walk(path)));
      continue;
    }
    const kind = sourceKind(path);
    if (kind) files.push({ path, kind, size: info.size });
    else problems.push({ path: given, message: 'not a .zip, .tar.gz, .json or .jsonl file' });
  }
  return { files, problems };
}

async function walk(dir: string): Promise<SourceFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  const files: SourceFile[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(path)));
    const kind = entry.isFile() ? sourceKind(path) : null;
    if (kind) files.push({ path, kind, size: (await stat(path)).size });
  }
  return files;
}

/** SHA-256 of the file's bytes: the identity that makes a second load of the same data a no-op. */
export function hashFile(path: string): Promise<string> {
  return new Promise((done, fail) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .once('error', fail)
      .once('end', () => done(hash.digest('hex')));
  });
}

/** The id prefix of a source's events: its file name without the archive and JSON extensions. */
export function sourceStem(path: string): string {
  return basename(path).replace(/(\.tar\.gz|\.tgz|\.zip|\.jsonl|\.ndjson|\.json)$/i, '');
}
