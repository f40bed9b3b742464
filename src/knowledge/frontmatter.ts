import { parse as parseYaml } from 'yaml';
import type { SkillProblem } from './types.js';

/** Front matter of SKILL.md, per the Agent Skills specification (agentskills.io/specification). */
export interface FrontMatter {
  name: string;
  description: string;
  license: string | null;
  compatibility: string | null;
  /** String keys to string values; anything else is reported and dropped. */
  metadata: Record<string, string>;
  /** `allowed-tools`: space-separated tool names (experimental in the specification). */
  allowedTools: string[];
}

export const specFields = ['name', 'description', 'license', 'compatibility', 'metadata', 'allowed-tools'];
const namePattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const frontMatterPattern = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

export interface ParsedSkillFile {
  front: FrontMatter | null;
  body: string;
  problems: SkillProblem[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why a name breaks the specification's rules, or null when it is valid. */
export function nameProblem(name: string): string | null {
  if (name.length === 0 || name.length > 64) return `is ${name.length} characters; the limit is 1-64`;
  if (/[A-Z]/.test(name)) return 'has upper-case letters';
  if (name.startsWith('-') || name.endsWith('-')) return 'starts or ends with a hyphen';
  if (name.includes('--')) return 'has consecutive hyphens';
  if (!namePattern.test(name)) return 'has characters other than a-z, 0-9 and hyphens';
  return null;
}

/**
 * Parses and checks one SKILL.md. Every rule of the specification that fails is a problem with
 * the fix; problems of severity `error` make the skill unusable, `warning` ones do not.
 */
export function parseSkillFile(text: string, path: string, folderName: string): ParsedSkillFile {
  const problems: SkillProblem[] = [];
  const problem = (severity: SkillProblem['severity'], message: string, fix: string) =>
    problems.push({ path, severity, message, fix });
  const match = frontMatterPattern.exec(text);
  if (!match) {
    problem(
      'error',
      'no YAML front matter',
      'start the file with a block between two `---` lines holding `name:` and `description:`',
    );
    return { front: null, body: text, problems };
  }
  const body = text.slice(match[0].length);
  let document: unknown;
  try {
    document = parseYaml(match[1] ?? '');
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    problem('error', `front matter is not valid YAML: ${reason}`, 'fix the YAML between the `---` lines');
    return { front: null, body, problems };
  }
  if (!isRecord(document)) {
    problem('error', 'front matter is not a mapping', 'write `name: ...` and `description: ...` as keys');
    return { front: null, body, problems };
  }
  const name = document.name;
  if (typeof name !== 'string' || name === '') {
    problem('error', 'front matter has no `name`', `add \`name: ${folderName}\``);
  } else {
    const why = nameProblem(name);
    if (why)
      problem(
        'error',
        `name "${name}" ${why}`,
        'use 1-64 lower-case letters, digits and single hyphens, e.g. credential-dumping',
      );
    else if (name !== folderName)
      problem(
        'error',
        `name "${name}" does not match its folder "${folderName}"`,
        `rename the folder to ${name}, or set \`name: ${folderName}\``,
      );
  }
  const description = document.description;
  if (typeof description !== 'string' || description.trim() === '') {
    problem(
      'error',
      'front matter has no `description`',
      'add `description:` saying what the skill does and when to use it (1-1024 characters)',
    );
  } else if (description.length > 1024) {
    problem(
      'error',
      `description is ${description.length} characters; the limit is 1024`,
      'shorten it; move detail into the body of SKILL.md',
    );
  }
  const optionalText = (key: string, max: number): string | null => {
    const value = document[key];
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string' || value.trim() === '') {
      problem('warning', `\`${key}\` is not a non-empty string`, `write \`${key}\` as one line of text`);
      return null;
    }
    if (value.length > max) {
      problem(
        'warning',
        `\`${key}\` is ${value.length} characters; the limit is ${max}`,
        `shorten \`${key}\``,
      );
      return value.slice(0, max);
    }
    return value;
  };
  const license = optionalText('license', 1024);
  const compatibility = optionalText('compatibility', 500);
  const metadata: Record<string, string> = {};
  if (document.metadata !== undefined && document.metadata !== null) {
    if (!isRecord(document.metadata)) {
      problem('warning', '`metadata` is not a mapping', 'write `metadata:` as string keys to string values');
    } else {
      for (const [key, value] of Object.entries(document.metadata)) {
        if (typeof value === 'string') metadata[key] = value;
        else
          problem(
            'warning',
            `metadata.${key} is not a string`,
            `quote it (\`${key}: "${String(value)}"\`); the specification maps strings to strings`,
          );
      }
    }
  }
  let allowedTools: string[] = [];
  const tools = document['allowed-tools'];
  if (tools !== undefined && tools !== null) {
    if (typeof tools === 'string') allowedTools = tools.split(/\s+/).filter(Boolean);
    else
      problem(
        'warning',
        '`allowed-tools` is not a string',
        'write it as space-separated tool names, e.g. `allowed-tools: siem.search_events edr.process_tree`',
      );
  }
  for (const key of Object.keys(document)) {
    if (!specFields.includes(key))
      problem(
        'warning',
        `unknown front matter field \`${key}\``,
        `move it under \`metadata:\` (the specification allows only ${specFields.join(', ')})`,
      );
  }
  if (body.trim() === '')
    problem('warning', 'SKILL.md has no instructions after the front matter', 'write the runbook body');
  const lines = body.split('\n').length;
  if (lines > 500)
    problem(
      'warning',
      `SKILL.md body is ${lines} lines`,
      'keep it under 500 lines: move detail into references/ and link it',
    );
  const fatal = problems.some((item) => item.severity === 'error');
  if (fatal || typeof name !== 'string' || typeof description !== 'string')
    return { front: null, body, problems };
  return { front: { name, description, license, compatibility, metadata, allowedTools }, body, problems };
}
