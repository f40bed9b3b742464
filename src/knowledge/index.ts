import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** An Agent Skill: a folder with SKILL.md (YAML front matter `name`, `description`) and resources. */
export interface Skill {
  name: string;
  description: string;
  directory: string;
  /** Full SKILL.md text, loaded only when the model asks for the skill. */
  content: string;
  /** SHA-256 of SKILL.md, recorded in the audit trail on every load. */
  hash: string;
}

export interface SkillProblem {
  path: string;
  message: string;
}

export const bundledSkillsDirectory = fileURLToPath(new URL('../../skills/', import.meta.url));

const frontMatterSchema = z.object({
  name: z
    .string()
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lower-case words joined by hyphens')
    .max(64),
  description: z.string().min(1).max(1024),
});

const frontMatterPattern = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/;

/** Parses one SKILL.md; returns the skill or the reason it is not one. */
export function parseSkill(text: string, directory: string): Skill | SkillProblem {
  const path = join(directory, 'SKILL.md');
  const match = frontMatterPattern.exec(text);
  if (!match?.[1]) return { path, message: 'no YAML front matter (--- name/description --- at the top)' };
  let front: unknown;
  try {
    front = parseYaml(match[1]);
  } catch (error) {
    return {
      path,
      message: `front matter is not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    };
  }
  const parsed = frontMatterSchema.safeParse(front);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { path, message: `front matter ${issue?.path.join('.') || ''}: ${issue?.message ?? 'invalid'}` };
  }
  return {
    name: parsed.data.name,
    description: parsed.data.description,
    directory,
    content: text,
    hash: createHash('sha256').update(text).digest('hex'),
  };
}

/** Loads every skill folder under the given directories; later directories override earlier names. */
export async function loadSkills(
  directories: readonly string[],
): Promise<{ skills: Skill[]; problems: SkillProblem[] }> {
  const byName = new Map<string, Skill>();
  const problems: SkillProblem[] = [];
  for (const root of directories) {
    let entries: string[];
    try {
      entries = (await readdir(root, { withFileTypes: true }))
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name);
    } catch (error) {
      problems.push({
        path: root,
        message: `cannot read skills directory: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      });
      continue;
    }
    for (const entry of entries.sort()) {
      const directory = join(root, entry);
      let text: string;
      try {
        text = await readFile(join(directory, 'SKILL.md'), 'utf8');
      } catch {
        problems.push({ path: directory, message: 'no SKILL.md in this folder' });
        continue;
      }
      const skill = parseSkill(text, directory);
      if ('message' in skill) problems.push(skill);
      else byName.set(skill.name, skill);
    }
  }
  return { skills: [...byName.values()], problems };
}
