import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checklistFile, parseChecklist } from './checklist.js';
import { loadSkills } from './loader.js';
import type { Skill, SkillProblem, SkillSet } from './types.js';

const linkPattern = /\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;

/** Relative links in SKILL.md (`[event ids](references/event-ids.md)`) that name no resource of the skill. */
function brokenLinks(skill: Skill): SkillProblem[] {
  const listed = new Set(skill.resources.map((resource) => resource.path));
  const problems: SkillProblem[] = [];
  for (const match of skill.content.matchAll(linkPattern)) {
    const target = (match[1] ?? '').split('#')[0] ?? '';
    if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    const path = target.replace(/^\.\//, '');
    if (!listed.has(path))
      problems.push({
        path: join(skill.directory, 'SKILL.md'),
        severity: 'error',
        message: `link to ${target} names no file of the skill`,
        fix: `add ${path} to the skill folder, or fix the link (paths are relative to the skill folder)`,
      });
  }
  return problems;
}

async function checklistProblems(skill: Skill): Promise<SkillProblem[]> {
  if (!skill.resources.some((resource) => resource.path === checklistFile)) return [];
  const path = join(skill.directory, checklistFile);
  const parsed = parseChecklist(await readFile(path, 'utf8'));
  if (parsed.type === 'ok') return [];
  return parsed.issues.map((issue) => ({
    path,
    severity: 'error' as const,
    message: issue,
    fix: 'see the checklist format in skills/README.md',
  }));
}

function toolProblems(skill: Skill): SkillProblem[] {
  return skill.allowedTools
    .filter((tool) => !/^[\w-]+\.[\w-]+$/.test(tool) && !/^[\w-]+$/.test(tool))
    .map((tool) => ({
      path: join(skill.directory, 'SKILL.md'),
      severity: 'warning' as const,
      message: `allowed-tools entry "${tool}" is not a tool name`,
      fix: 'name tools as the gateway does (server.tool), separated by spaces',
    }));
}

/**
 * Every problem of the skills in the given directories: the specification's rules, resources,
 * links, `allowed-tools` and checklists. An extra check (e.g. the environment's asset file,
 * which the control layer owns) can be passed in.
 */
export async function lintSkills(
  directories: readonly string[],
  extra: (skill: Skill) => Promise<SkillProblem[]> = async () => [],
): Promise<SkillSet> {
  const set = await loadSkills(directories);
  const problems: SkillProblem[] = [];
  // Each directory on its own, so a skill another directory overrides is still checked.
  for (const directory of directories) {
    const own = await loadSkills([directory]);
    problems.push(...own.problems);
    for (const skill of own.skills) {
      problems.push(...brokenLinks(skill), ...toolProblems(skill), ...(await checklistProblems(skill)));
      problems.push(...(await extra(skill)));
    }
  }
  return { ...set, problems };
}
