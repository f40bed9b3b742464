import { basename, isAbsolute, relative } from 'node:path';

/** How to call this CLI again in hints: `warden` when installed as a command, else `node <path>`. */
export function selfCommand(): string {
  const script = process.argv[1] ?? '';
  if (basename(script) === 'warden') return 'warden';
  const nearby = relative(process.cwd(), script);
  const path = nearby && !nearby.startsWith('..') && !isAbsolute(nearby) ? nearby : script;
  return script.endsWith('.ts') ? `node --import tsx ${path}` : `node ${path}`;
}
