export type {
  Checklist,
  ChecklistCondition,
  ChecklistMatch,
  ChecklistOutcome,
  ChecklistParse,
  ChecklistStep,
} from './checklist.js';
export {
  checklistAlertFields,
  checklistFile,
  durationMs,
  parseChecklist,
  templateVariables,
} from './checklist.js';
export type { FrontMatter, ParsedSkillFile } from './frontmatter.js';
export { nameProblem, parseSkillFile, specFields } from './frontmatter.js';
export { lintSkills } from './lint.js';
export { bundledSkillsDirectory, loadSkill, loadSkills } from './loader.js';
export type { ResourceRead } from './resources.js';
export {
  contentHash,
  listResources,
  readSkillResource,
  resourceLimits,
  unsafeResourcePath,
} from './resources.js';
export type { Skill, SkillOverride, SkillProblem, SkillResource, SkillSet } from './types.js';
