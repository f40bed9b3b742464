import { dirname } from 'node:path';
import type { Command } from 'commander';
import { openRuntime, type Runtime, resolveHome } from '../agent/index.js';
import { readConfigFile, type WardenConfig } from '../config/index.js';
import { evalEvidenceSource } from '../eval/index.js';

export interface GlobalOptions {
  config?: string;
  home?: string;
  debug?: boolean;
}

export interface CliContext {
  config: WardenConfig;
  /** Absolute path of the config file read, or null for the built-in defaults. */
  configPath: string | null;
  home: string;
  out: (line: string) => void;
}

/** Reads the config (or defaults) and resolves the state directory for a command. */
export async function cliContext(command: Command): Promise<CliContext> {
  const options = command.optsWithGlobals<GlobalOptions>();
  const { config, path } = await readConfigFile(options.config, process.env);
  return {
    config,
    configPath: path,
    home: resolveHome(config, options.home),
    out: (line) => process.stdout.write(`${line}\n`),
  };
}

/** Connects what a run needs, handing the config file on to the bundled servers it spawns. */
export function cliRuntime(context: CliContext): Promise<Runtime> {
  return openRuntime({
    config: context.config,
    home: context.home,
    configPath: context.configPath,
    autonomyEvidence: evalEvidenceSource(context.home, context.config.model.provider),
  });
}

/** Relative paths in warden.yaml are resolved against the file's directory (else the working directory). */
export function configBaseDir(context: CliContext): string {
  return context.configPath ? dirname(context.configPath) : process.cwd();
}
