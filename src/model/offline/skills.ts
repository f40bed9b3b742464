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
function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[a-z0-9][a-z0-9._-]*[a-z0-9]/g) ?? []);
}

function skillWords(skill: SkillEntry): Set<string> {
  return words(`${skill.name.replace(/-/g, ' ')} ${skill.description}`);
}

/** How relevant a runbook is, and whether on evidence of its own (`strong`). */
export interface SkillMatch {
  score: number;
  /** One of the alert's ATT&CK techniques, or a process of the alert that no other runbook names. */
  strong: boolean;
}

/**
 * How relevant a runbook is to the alert: ATT&CK ids and the alert's process names weigh most,
 * but a process name several runbooks name (PowerShell runs in many behaviours) only as much as
 * a title word (attacker-influenced, so weak). `index` is every runbook offered.
 */
export function skillScore(skill: SkillEntry, alert: AlertFacts, index: readonly SkillEntry[]): SkillMatch {
  const own = skillWords(skill);
  const others = index.filter((entry) => entry.name !== skill.name).map(skillWords);
  let score = 0;
  let strong = false;
  const processNames = [alert.image, alert.parentImage]
    .map((image) => imageName(image).replace(/\.exe$/, ''))
    .filter((name) => name.length >= 3);
  for (const name of new Set(processNames)) {
    if (!own.has(name)) continue;
    const distinctive = !others.some((words) => words.has(name));
    score += distinctive ? 3 : 1;
    strong ||= distinctive;
  }
  for (const technique of alert.techniques) {
    const id = technique.toLowerCase();
    if (own.has(id) || own.has(id.split('.')[0] ?? id)) {
      score += 3;
      strong = true;
    }
  }
  for (const word of words(alert.title)) {
    if (word.length >= 4 && !stopwords.has(word) && own.has(word)) score += 1;
  }
  return { score, strong };
}

function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * The runbooks to load, best first (ties broken by name for determinism): at most two with
 * evidence of their own (`SkillMatch.strong`); when none has any, the best weak match alone. A
 * runbook is not loaded to fill a slot: its text is resent on every later turn. The environment
 * runbook is no exception: its asset facts reach containment through the control layer.
 */
export function chooseSkills(index: readonly SkillEntry[], alert: AlertFacts): SkillEntry[] {
  const ranked = index
    .map((skill) => ({ skill, ...skillScore(skill, alert, index) }))
    .filter(({ score }) => score >= minimumScore)
    .sort((left, right) => right.score - left.score || compareText(left.skill.name, right.skill.name));
  const strong = ranked.filter((match) => match.strong);
  return (strong.length > 0 ? strong.slice(0, maxSkills) : ranked.slice(0, 1)).map(({ skill }) => skill);
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
