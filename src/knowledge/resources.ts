import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Skill, SkillProblem, SkillResource } from './types.js';

/** Bounds on what a skill folder may hold: a runbook is text, not a data set. */
export const resourceLimits = {
  maxFiles: 200,
  maxDepth: 6,
  /** Largest resource returned to the model by `read_skill_resource`. */
  maxReadBytes: 256 * 1024,
  /** Larger files are not hashed or listed. */
  maxListBytes: 16 * 1024 * 1024,
} as const;

function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export { sha256 as contentHash };

function inside(root: string, target: string): boolean {
  const path = relative(root, target);
  return path !== '' && !path.startsWith('..') && !isAbsolute(path);
}

/**
 * Every file of a skill folder but SKILL.md, with size and hash. Hidden files are skipped; a
 * symbolic link that leads outside the folder is refused and reported, never followed.
 */
export async function listResources(
  directory: string,
): Promise<{ resources: SkillResource[]; problems: SkillProblem[] }> {
  const resources: SkillResource[] = [];
  const problems: SkillProblem[] = [];
  const root = await realpath(directory);
  const visit = async (folder: string, depth: number): Promise<void> => {
    const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      const relativePath = relative(directory, path).split(sep).join('/');
      if (depth === 0 && entry.name === 'SKILL.md') continue;
      let target = path;
      if (entry.isSymbolicLink()) {
        const resolved = await realpath(path).catch(() => null);
        if (!resolved || !inside(root, resolved)) {
          problems.push({
            path,
            severity: 'warning',
            message: `symbolic link ${relativePath} leads outside the skill folder (or nowhere); it is not served`,
            fix: 'copy the file into the skill folder instead of linking to it',
          });
          continue;
        }
        target = resolved;
      }
      const info = await stat(target);
      if (info.isDirectory()) {
        if (depth + 1 >= resourceLimits.maxDepth) {
          problems.push({
            path,
            severity: 'warning',
            message: `folder ${relativePath} is nested deeper than ${resourceLimits.maxDepth} levels; not listed`,
            fix: 'keep resources one or two levels deep (references/, scripts/, assets/)',
          });
          continue;
        }
        await visit(path, depth + 1);
        continue;
      }
      if (!info.isFile()) continue;
      if (resources.length >= resourceLimits.maxFiles) {
        problems.push({
          path,
          severity: 'warning',
          message: `more than ${resourceLimits.maxFiles} files; the rest are not listed`,
          fix: 'keep a skill small; move data sets out of the skill folder',
        });
        return;
      }
      if (info.size > resourceLimits.maxListBytes) {
        problems.push({
          path,
          severity: 'warning',
          message: `${relativePath} is ${info.size} bytes; files over ${resourceLimits.maxListBytes} are not listed`,
          fix: 'move large files out of the skill folder',
        });
        continue;
      }
      resources.push({ path: relativePath, size: info.size, hash: sha256(await readFile(target)) });
    }
  };
  await visit(directory, 0);
  return { resources, problems };
}

export type ResourceRead =
  | { type: 'ok'; resource: SkillResource; text: string }
  | { type: 'error'; error: string; message: string };

/** Why a requested resource path is refused before the file system is touched, or null. */
export function unsafeResourcePath(path: string): string | null {
  if (path.length === 0 || path.length > 512) return 'the path is empty or longer than 512 characters';
  if (path.includes('\0')) return 'the path contains a NUL character';
  if (path.includes('\\')) return 'use / as the separator';
  if (path.startsWith('/') || /^[a-z]:/i.test(path)) return 'the path must be relative to the skill folder';
  if (path.split('/').some((part) => part === '..' || part === '.' || part === ''))
    return 'the path may not contain empty, . or .. segments';
  return null;
}

/**
 * Reads one listed resource of a skill, as text. Refused: paths outside the listing, anything
 * that now resolves outside the folder, files larger than the cap, binary files, and files
 * whose content changed since the skill was loaded (the audited hash would be a lie).
 */
export async function readSkillResource(
  skill: Skill,
  path: string,
  maxBytes: number = resourceLimits.maxReadBytes,
): Promise<ResourceRead> {
  const unsafe = unsafeResourcePath(path);
  if (unsafe) return { type: 'error', error: 'invalid_path', message: unsafe };
  const resource = skill.resources.find((candidate) => candidate.path === path);
  if (!resource) {
    const listed = skill.resources.map((candidate) => candidate.path).slice(0, 20);
    return {
      type: 'error',
      error: 'unknown_resource',
      message: `skill ${skill.name} has no resource ${JSON.stringify(path)}; listed: ${listed.join(', ') || 'none'}`,
    };
  }
  if (resource.size > maxBytes)
    return {
      type: 'error',
      error: 'too_large',
      message: `${path} is ${resource.size} bytes; the limit is ${maxBytes}`,
    };
  let bytes: Buffer;
  try {
    const root = await realpath(skill.directory);
    const target = await realpath(join(skill.directory, ...path.split('/')));
    if (!inside(root, target) || !(await lstat(target)).isFile())
      return { type: 'error', error: 'invalid_path', message: `${path} resolves outside the skill folder` };
    bytes = await readFile(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'read failed';
    return { type: 'error', error: 'unreadable', message: `${path} cannot be read (${code})` };
  }
  if (bytes.length > maxBytes || sha256(bytes) !== resource.hash)
    return {
      type: 'error',
      error: 'changed',
      message: `${path} changed since the skill was loaded; restart Warden to load the new version`,
    };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { type: 'error', error: 'binary', message: `${path} is not UTF-8 text` };
  }
  return { type: 'ok', resource, text };
}
