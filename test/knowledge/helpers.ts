import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Writes a skill folder: SKILL.md with the given front matter lines and body, plus resource files. */
export function writeSkill(
  root: string,
  folder: string,
  options: { front?: string; body?: string; files?: Record<string, string | Buffer> } = {},
): string {
  const directory = join(root, folder);
  mkdirSync(directory, { recursive: true });
  const front = options.front ?? `name: ${folder}\ndescription: Runbook ${folder} for tests.`;
  writeFileSync(
    join(directory, 'SKILL.md'),
    `---\n${front}\n---\n\n${options.body ?? `# ${folder}\n\nSteps.\n`}`,
  );
  for (const [path, content] of Object.entries(options.files ?? {})) {
    mkdirSync(dirname(join(directory, path)), { recursive: true });
    writeFileSync(join(directory, path), content);
  }
  return directory;
}
