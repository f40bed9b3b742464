import { checklistFile } from '../../knowledge/index.js';
import { checklistState, readResourceTool, stepProgress } from './checklists.js';
import { imageName } from './lexicon.js';
import type { PlannedCall } from './plan.js';
import type { Transcript } from './transcript.js';
import type { AlertFacts, SkillEntry } from './types.js';

export const maxSkills = 2;
const minimumScore = 2;
const stopwords = new Set([
  'with',
  'from',
  'that',
  'this',
  'alert',
  'detected',
  'detection',
  'process',
  'suspicious',
  'windows',
  'execution',
  'possible',
  'potential',
  'via',
  'using',
]);
/** Runbooks about the organisation's own assets inform every containment decision. */
const environmentContext = /\b(?:asset criticality|criticality|containment|sign-off)\b/i;

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[a-z0-9][a-z0-9._-]*[a-z0-9]/g) ?? []);
}

/**
 * How relevant a runbook is to the alert: process names and ATT&CK ids weigh most, title
 * words (attacker-influenced, so weak) a little, environment context a fixed amount.
 */
export function skillScore(skill: SkillEntry, alert: AlertFacts): number {
  const skillWords = words(`${skill.name.replace(/-/g, ' ')} ${skill.description}`);
  let score = 0;
  const processNames = [alert.image, alert.parentImage]
    .map((image) => imageName(image).replace(/\.exe$/, ''))
    .filter((name) => name.length >= 3);
  for (const name of new Set(processNames)) if (skillWords.has(name)) score += 3;
  for (const technique of alert.techniques) {
    const id = technique.toLowerCase();
    if (skillWords.has(id) || skillWords.has(id.split('.')[0] ?? id)) score += 3;
  }
  for (const word of words(alert.title)) {
    if (word.length >= 4 && !stopwords.has(word) && skillWords.has(word)) score += 1;
  }
  if (environmentContext.test(skill.description)) score += 2;
  return score;
}

function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

/** The most relevant runbooks (at most two), best first; ties broken by name for determinism. */
export function chooseSkills(index: readonly SkillEntry[], alert: AlertFacts): SkillEntry[] {
  return index
    .map((skill) => ({ skill, score: skillScore(skill, alert) }))
    .filter(({ score }) => score >= minimumScore)
    .sort((left, right) => right.score - left.score || compareText(left.skill.name, right.skill.name))
    .slice(0, maxSkills)
    .map(({ skill }) => skill);
}

/**
 * Runbook work after the skills are loaded: read each loaded skill's checklist (through
 * `read_skill_resource`, so its hash is audited), then ask the steps of every checklist whose
 * own triggers match the alert, in order, as their templates become resolvable.
 */
export function runbookCalls(
  alert: AlertFacts,
  transcript: Transcript,
  tools: ReadonlySet<string>,
): PlannedCall[] {
  const state = checklistState(transcript);
  const calls: PlannedCall[] = [];
  if (tools.has(readResourceTool)) {
    for (const skill of state.unread)
      calls.push({
        name: readResourceTool,
        input: { skill, path: checklistFile },
        why: `checklist of runbook ${skill}`,
      });
  }
  for (const progress of stepProgress(alert, transcript, state)) {
    if (progress.call.type !== 'call' || progress.exchange || !tools.has(progress.call.name)) continue;
    calls.push({
      name: progress.call.name,
      input: progress.call.input,
      why: `${progress.skill}: ${progress.step.question.replace(/\?$/, '').toLowerCase()}`,
    });
  }
  return calls;
}
