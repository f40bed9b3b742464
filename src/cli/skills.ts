import { readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { skillDirectories } from '../agent/index.js';
import { environmentAssetsFile, parseEnvironmentAssets } from '../control/index.js';
import { InputError } from '../errors.js';
import {
  bundledSkillsDirectory,
  lintSkills,
  loadSkills,
  readSkillResource,
  type Skill,
  type SkillProblem,
} from '../knowledge/index.js';
import { type CliContext, cliContext, configBaseDir } from './context.js';

function origin(skill: Skill): string {
  return skill.root === bundledSkillsDirectory.replace(/[\\/]$/, '') ? 'bundled' : skill.root;
}

function shown(path: string): string {
  const local = relative(process.cwd(), path);
  return local.startsWith('..') ? path : local;
}

/** The control layer owns the environment's asset file, so its schema is checked here, beside the skill's own rules. */
async function environmentProblems(skill: Skill): Promise<SkillProblem[]> {
  if (skill.name !== 'environment') return [];
  if (!skill.resources.some((resource) => resource.path === environmentAssetsFile)) return [];
  const path = join(skill.directory, environmentAssetsFile);
  try {
    parseEnvironmentAssets(await readFile(path, 'utf8'), path);
    return [];
  } catch (error) {
    return [
      {
        path,
        severity: 'error',
        message: (error as Error).message,
        fix: 'see the asset file format in skills/README.md',
      },
    ];
  }
}

async function skillSet(context: CliContext) {
  return loadSkills(skillDirectories(context.config, configBaseDir(context)));
}

async function listSkills(context: CliContext, options: { json?: boolean }): Promise<void> {
  const set = await skillSet(context);
  if (options.json) {
    const skills = set.skills.map(({ content: _content, ...skill }) => skill);
    context.out(JSON.stringify({ skills, overrides: set.overrides }, null, 2));
    return;
  }
  for (const skill of set.skills) {
    const description =
      skill.description.length > 100 ? `${skill.description.slice(0, 99)}…` : skill.description;
    context.out(
      `${skill.name.padEnd(32)} ${skill.hash.slice(0, 12)}  ${String(skill.resources.length).padStart(2)} resource(s)  ${origin(skill)}`,
    );
    context.out(`    ${description}`);
  }
  for (const override of set.overrides)
    context.out(`${override.name}: ${shown(override.kept)} overrides ${shown(override.replaced)}`);
  const errors = set.problems.filter((problem) => problem.severity === 'error').length;
  context.out(
    `${set.skills.length} skill(s)${errors > 0 ? `; ${errors} folder(s) skipped, see \`warden skills lint\`` : ''}`,
  );
}

async function showSkill(
  context: CliContext,
  name: string,
  options: { resource?: string; json?: boolean },
): Promise<void> {
  const set = await skillSet(context);
  const skill = set.skills.find((candidate) => candidate.name === name);
  if (!skill)
    throw new InputError(
      `no skill named "${name}"; known: ${set.skills.map((candidate) => candidate.name).join(', ') || 'none'}`,
    );
  if (options.resource !== undefined) {
    const read = await readSkillResource(skill, options.resource);
    if (read.type === 'error') throw new InputError(`${skill.name}/${options.resource}: ${read.message}`);
    if (options.json)
      context.out(JSON.stringify({ skill: skill.name, ...read.resource, content: read.text }));
    else context.out(read.text.replace(/\n$/, ''));
    return;
  }
  if (options.json) {
    context.out(JSON.stringify(skill, null, 2));
    return;
  }
  context.out(`name:          ${skill.name}`);
  context.out(`directory:     ${skill.directory} (${origin(skill)})`);
  context.out(`sha-256:       ${skill.hash}`);
  if (skill.license) context.out(`license:       ${skill.license}`);
  if (skill.compatibility) context.out(`compatibility: ${skill.compatibility}`);
  if (skill.allowedTools.length > 0) context.out(`allowed-tools: ${skill.allowedTools.join(' ')}`);
  for (const [key, value] of Object.entries(skill.metadata)) context.out(`metadata.${key}: ${value}`);
  context.out('resources:');
  for (const resource of skill.resources)
    context.out(
      `  ${resource.path.padEnd(36)} ${String(resource.size).padStart(7)} B  ${resource.hash.slice(0, 12)}`,
    );
  if (skill.resources.length === 0) context.out('  (none)');
  context.out('');
  context.out(skill.content.replace(/\n$/, ''));
}

async function lint(context: CliContext, directories: string[]): Promise<boolean> {
  const targets =
    directories.length > 0
      ? directories.map((directory) => resolve(directory))
      : skillDirectories(context.config, configBaseDir(context));
  const set = await lintSkills(targets, environmentProblems);
  for (const problem of set.problems) {
    context.out(`${shown(problem.path)}: ${problem.severity}: ${problem.message}`);
    context.out(`    fix: ${problem.fix}`);
  }
  for (const override of set.overrides)
    context.out(`note: ${override.name} in ${shown(override.kept)} overrides ${shown(override.replaced)}`);
  context.out(
    `${set.skills.length} skill(s) checked in ${targets.length} director${targets.length === 1 ? 'y' : 'ies'}; ${set.problems.length} problem(s)`,
  );
  return set.problems.length === 0;
}

/** `warden skills list|show|lint`: the runbooks Warden loads, and whether they follow the Agent Skills format. */
export function skillsCommand(): Command {
  const skills = new Command('skills').description(
    'Agent Skills runbooks: bundled skills/ and skills.directories',
  );
  skills
    .command('list')
    .description('skills in effect: name, hash, resources, where from (later directories override earlier)')
    .option('--json', 'print as JSON')
    .action(async (options: { json?: boolean }, command: Command) =>
      listSkills(await cliContext(command), options),
    );
  skills
    .command('show')
    .description('a skill: front matter, hash, resources and SKILL.md; or one resource with --resource')
    .argument('<name>', 'skill name')
    .option('--resource <path>', 'print this resource file (path as listed), confined to the skill folder')
    .option('--json', 'print as JSON')
    .action(async (name: string, options: { resource?: string; json?: boolean }, command: Command) =>
      showSkill(await cliContext(command), name, options),
    );
  skills
    .command('lint')
    .description(
      'check skills against the Agent Skills format, links, checklists and asset files; exit 1 on any problem',
    )
    .argument('[directories...]', 'skill directories (default: bundled skills/ and skills.directories)')
    .action(async (directories: string[], _options, command: Command) => {
      if (!(await lint(await cliContext(command), directories))) process.exitCode = 1;
    });
  return skills;
}
