import { Option } from 'commander';
import { modelNotes, type ProviderName, providerNames } from '../model/index.js';
import type { CliContext } from './context.js';

/** `--provider`, on the commands that run investigations. */
export function providerOption(): Option {
  return new Option(
    '--provider <name>',
    'model provider for these runs, over model.provider in warden.yaml',
  ).choices(providerNames);
}

/** The context with the provider chosen on the command line; start-up notes (e.g. a missing key) go to stderr. */
export function withProvider(context: CliContext, provider: ProviderName | undefined): CliContext {
  const config = provider
    ? { ...context.config, model: { ...context.config.model, provider } }
    : context.config;
  for (const note of modelNotes(config.model)) process.stderr.write(`warden: ${note}\n`);
  return { ...context, config };
}

/** How the banner names the model in use. */
export function describeModel(context: CliContext): string {
  const { model } = context.config;
  if (model.provider === 'offline') return 'offline analyst';
  if (model.provider === 'anthropic') return `${model.orchestrator.model} (Anthropic API)`;
  return `${model.openai.model ?? '(model.openai.model unset)'} at ${model.openai.baseURL}`;
}
