import { basename, relative } from 'node:path';

/** How to call this CLI again in hints: `warden` when installed as a command, else `node <path>`. */
export function selfCommand(): string {
  const script = process.argv[1] ?? '';
  if (basename(script) === 'warden') return 'warden';
  const path = relative(process.cwd(), script) || script;
  return script.endsWith('.ts') ? `node --import tsx ${path}` : `node ${path}`;
}
