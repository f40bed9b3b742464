import type { Command } from 'commander';
import { resolveHome } from '../agent/index.js';
import { readConfigFile, type WardenConfig } from '../config/index.js';

export interface GlobalOptions {
  config?: string;
  home?: string;
  debug?: boolean;
}

export interface CliContext {
  config: WardenConfig;
  home: string;
  out: (line: string) => void;
}

/** Reads the config (or defaults) and resolves the state directory for a command. */
export async function cliContext(command: Command): Promise<CliContext> {
  const options = command.optsWithGlobals<GlobalOptions>();
  const config = await readConfigFile(options.config, process.env);
  return {
    config,
    home: resolveHome(config, options.home),
    out: (line) => process.stdout.write(`${line}\n`),
  };
}
