/** A file of a skill besides SKILL.md (e.g. `references/event-ids.md`, `checklist.yaml`): listed, loaded on demand. */
export interface SkillResource {
  /** Relative to the skill folder, `/`-separated. */
  path: string;
  size: number;
  /** SHA-256 of the file's bytes when the skill was loaded, recorded on every read. */
  hash: string;
}

/** An Agent Skill: a folder with SKILL.md (YAML front matter, Markdown body) and optional resources. */
export interface Skill {
  name: string;
  description: string;
  /** Absolute path of the skill folder. */
  directory: string;
  /** The skills directory it came from (bundled `skills/` or one of `skills.directories`). */
  root: string;
  /** Full SKILL.md text (front matter and body), as hashed. */
  content: string;
  /**
   * The instructions after the front matter: what `load_skill` shows the model. The front matter's
   * name and description are the skill index the model already has; its other fields are the loader's.
   */
  body: string;
  /** SHA-256 of SKILL.md, recorded in the audit trail on every load. */
  hash: string;
  license: string | null;
  compatibility: string | null;
  metadata: Record<string, string>;
  allowedTools: string[];
  resources: SkillResource[];
}

export interface SkillProblem {
  path: string;
  /** `error`: the skill cannot be used; `warning`: it loads, but breaks a rule of the format. */
  severity: 'error' | 'warning';
  message: string;
  /** What to change. */
  fix: string;
}

/** A skill that replaced another of the same name from an earlier directory. */
export interface SkillOverride {
  name: string;
  kept: string;
  replaced: string;
}

export interface SkillSet {
  skills: Skill[];
  problems: SkillProblem[];
  overrides: SkillOverride[];
}
