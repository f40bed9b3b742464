import { readdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSkillFile } from './frontmatter.js';
import { contentHash, listResources } from './resources.js';
import type { Skill, SkillOverride, SkillProblem, SkillSet } from './types.js';

export const bundledSkillsDirectory = fileURLToPath(new URL('../../skills/', import.meta.url));

/** Loads one skill folder: SKILL.md checked against the specification, resources listed (not read). */
export async function loadSkill(
  directory: string,
  root: string,
): Promise<{ skill: Skill | null; problems: SkillProblem[] }> {
  const path = join(directory, 'SKILL.md');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      skill: null,
      problems: [
        {
          path: directory,
          severity: 'error',
          message: code === 'ENOENT' ? 'no SKILL.md in this folder' : `SKILL.md cannot be read (${code})`,
          fix: 'add a SKILL.md with name/description front matter, or move the folder out of the skills directory',
        },
      ],
    };
  }
  const parsed = parseSkillFile(text, path, basename(directory));
  const listed = await listResources(directory);
  const problems = [...parsed.problems, ...listed.problems];
  if (!parsed.front) return { skill: null, problems };
  return {
    skill: {
      ...parsed.front,
      directory,
      root,
      content: text,
      body: parsed.body.replace(/^\n+/, ''),
      hash: contentHash(text),
      resources: listed.resources,
    },
    problems,
  };
}

/**
 * Loads every skill folder of the given directories, in order. Precedence: a skill in a later
 * directory replaces one of the same name from an earlier one (so `skills.directories` in the
 * config override the bundled runbooks), and every replacement is reported in `overrides`.
 */
export async function loadSkills(directories: readonly string[]): Promise<SkillSet> {
  const byName = new Map<string, Skill>();
  const problems: SkillProblem[] = [];
  const overrides: SkillOverride[] = [];
  for (const given of directories) {
    const root = resolve(given);
    let entries: string[];
    try {
      entries = (await readdir(root, { withFileTypes: true }))
        .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
        .map((entry) => entry.name);
    } catch (error) {
      problems.push({
        path: root,
        severity: 'error',
        message: `cannot read skills directory (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
        fix: 'check the path in skills.directories (relative paths are relative to the config file)',
      });
      continue;
    }
    for (const entry of entries.sort()) {
      const loaded = await loadSkill(join(root, entry), root);
      problems.push(...loaded.problems);
      if (!loaded.skill) continue;
      const previous = byName.get(loaded.skill.name);
      if (previous)
        overrides.push({
          name: loaded.skill.name,
          kept: loaded.skill.directory,
          replaced: previous.directory,
        });
      byName.set(loaded.skill.name, loaded.skill);
    }
  }
  const skills = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { skills, problems, overrides };
}
