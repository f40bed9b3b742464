import type { AuditAppend } from '../capability/gateway/index.js';
import { readSkillResource, type Skill } from '../knowledge/index.js';
import type { PendingCall } from './state.js';

export type SkillCallResult =
  | { type: 'ok'; ref: string; value: unknown }
  | { type: 'error'; error: string; message: string };

function findSkill(skills: readonly Skill[], name: unknown): Skill | undefined {
  return skills.find((candidate) => candidate.name === name);
}

function unknownSkill(name: unknown): SkillCallResult {
  return {
    type: 'error',
    error: 'unknown_skill',
    message: `no skill named ${JSON.stringify(name)}; choose one from the skill index`,
  };
}

/**
 * `load_skill`: the body of SKILL.md (the instructions; the specification's second level of
 * disclosure) plus the list of its resources (path, size), audited with the hash of the whole file.
 * The model gets no front matter (its name and description are the index the first message
 * already shows; license, metadata and allowed-tools are the loader's) and no hashes (the audit
 * trail records them), nor the name its call gave: every later turn resends this result.
 */
export async function loadSkillCall(
  audit: AuditAppend,
  skills: readonly Skill[],
  call: PendingCall,
): Promise<SkillCallResult> {
  const skill = findSkill(skills, call.input.name);
  if (!skill) return unknownSkill(call.input.name);
  const event = await audit('skill-load', {
    callId: call.id,
    name: skill.name,
    hash: skill.hash,
    directory: skill.directory,
  });
  return {
    type: 'ok',
    ref: event.id,
    value: {
      content: skill.body,
      resources: skill.resources.map(({ path, size }) => ({ path, size })),
    },
  };
}

/**
 * `read_skill_resource`: one listed file of a loaded skill, confined to its folder, audited with the
 * file's hash. The model gets the text alone: the skill and path are its call's own arguments.
 */
export async function readResourceCall(
  audit: AuditAppend,
  skills: readonly Skill[],
  call: PendingCall,
): Promise<SkillCallResult> {
  const skill = findSkill(skills, call.input.skill);
  if (!skill) return unknownSkill(call.input.skill);
  const path = typeof call.input.path === 'string' ? call.input.path : '';
  const read = await readSkillResource(skill, path);
  if (read.type === 'error') return read;
  const event = await audit('skill-load', {
    callId: call.id,
    name: skill.name,
    resource: read.resource.path,
    hash: read.resource.hash,
    skillHash: skill.hash,
    directory: skill.directory,
  });
  return {
    type: 'ok',
    ref: event.id,
    value: { content: read.text },
  };
}
