import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { InputError } from '../errors.js';
import {
  type BuildSuiteOptions,
  buildReport,
  buildSuite,
  compareToBaseline,
  type EvalReport,
  evalHistoryPath,
  loadSuite,
  type RuleLevel,
  readBaseline,
  readBuildSpec,
  recordEvalResult,
  renderHtmlReport,
  ruleLevels,
  runSuite,
} from '../eval/index.js';
import { cliContext } from './context.js';
import { selfCommand } from './self.js';

const percent = (value: number | null) => (value === null ? '-' : `${(value * 100).toFixed(1)}%`);

function wholeNumber(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0)
    throw new InvalidArgumentError('expected a positive whole number');
  return number;
}

function share(value: string): number {
  const number = Number(value);
  if (!(number >= 0 && number <= 1)) throw new InvalidArgumentError('expected a number from 0 to 1');
  return number;
}

function price(value: string): { inputPerMTok: number; outputPerMTok: number } {
  const [input, output] = value.split(',').map(Number);
  if (!(Number.isFinite(input) && Number.isFinite(output) && input! >= 0 && output! >= 0))
    throw new InvalidArgumentError('expected <input>,<output> USD per million tokens, e.g. 3,15');
  return { inputPerMTok: input!, outputPerMTok: output! };
}

/** The summary printed after a run: the figures a reader checks first. */
export function describeReport(report: EvalReport): string[] {
  const m = report.metrics;
  const c = m.confusion;
  return [
    `${report.suite}: ${m.cases} cases (${m.malicious} malicious, ${m.benign} benign), provider ${report.provider}`,
    `  expected malicious → malicious ${c.malicious.malicious}, suspicious ${c.malicious.suspicious}, benign ${c.malicious.benign}, failed ${c.malicious.failed}`,
    `  expected benign    → malicious ${c.benign.malicious}, suspicious ${c.benign.suspicious}, benign ${c.benign.benign}, failed ${c.benign.failed}`,
    `  recall ${percent(m.recall)} (strict ${percent(m.strictRecall)}), precision ${percent(m.precision)}, false-positive rate ${percent(m.falsePositiveRate)}, escalation rate ${percent(m.escalationRate)}`,
    `  per alert: median ${Math.round(m.ms.median)} ms (p95 ${Math.round(m.ms.p95)} ms), tool calls median ${m.toolCalls.median} (p95 ${m.toolCalls.p95}), tokens mean ${Math.round(m.tokens.mean)}, cost $${m.costUsd.total.toFixed(4)} total`,
    ...report.falseNegatives
      .slice(0, 20)
      .map(
        (link) => `  false negative ${link.caseId} (${link.got}): ${link.title} — ${link.audit ?? 'no run'}`,
      ),
    ...(report.falseNegatives.length > 20
      ? [`  … and ${report.falseNegatives.length - 20} more false negatives`]
      : []),
  ];
}

function progressBar(): { start(total: number, done: number): void; tick(): void; stop(): void } {
  if (!process.stderr.isTTY) return { start() {}, tick() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'triage |{bar}| {value}/{total} cases | {eta_formatted} left',
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (total, done) => bar.start(total, done),
    tick: () => bar.increment(),
    stop: () => bar.stop(),
  };
}

interface EvalOptions {
  provider?: string;
  concurrency: number;
  out?: string;
  html?: string;
  baseline?: string;
  tolerance: number;
  resume?: boolean;
  price?: { inputPerMTok: number; outputPerMTok: number };
}

interface BuildOptions {
  spec?: string;
  datasets?: string[];
  rules?: string[];
  out?: string;
  name?: string;
  minLevel: RuleLevel;
  split?: 'train' | 'test';
  seed: string;
  testShare: number;
  cap: number;
  scratchHome?: string;
}

/** `warden eval <suite>` and `warden eval build`. */
export function evalCommand(): Command {
  const command = new Command('eval')
    .description('triage every case of an eval suite and score the verdicts (see the README, Eval)')
    .argument('<suite>', 'suite directory (with suite.yaml) or its suite.yaml')
    .option('--provider <name>', 'model provider, over the config')
    .option('--concurrency <n>', 'cases triaged at once', wholeNumber, 4)
    .option('--out <report.json>', 'write the JSON report')
    .option('--html <report.html>', 'write a self-contained HTML report')
    .option(
      '--baseline <report.json>',
      'exit 1 when recall or precision drop (or FPR rises) beyond --tolerance',
    )
    .option('--tolerance <share>', 'allowed drop against the baseline, absolute', share, 0.02)
    .option('--resume', 'keep the results of an interrupted run of this suite and triage only the rest')
    .option('--price <in,out>', 'USD per million input,output tokens, to price the runs', price)
    .action(async (path: string, options: EvalOptions, self: Command) => {
      const context = await cliContext(self);
      const suite = await loadSuite(path);
      const bar = progressBar();
      const run = await runSuite({
        suite,
        config: context.config,
        configPath: context.configPath,
        home: context.home,
        concurrency: options.concurrency,
        resume: options.resume === true,
        ...(options.provider ? { provider: options.provider } : {}),
        ...(options.price ? { price: options.price } : {}),
        onLoad: (loaded) =>
          process.stderr.write(
            `warden: ${suite.name}: ${loaded.loaded} datasets loaded, ${loaded.skipped} already loaded (${loaded.events} new events)\n`,
          ),
        onStart: (total, done) => bar.start(total, done),
        onCase: () => bar.tick(),
      });
      bar.stop();
      const report = buildReport({
        suite: suite.name,
        provider: options.provider ?? context.config.model.provider,
        home: run.home,
        results: run.results,
        auditCommand: (runId) => `${selfCommand()} --home ${run.home} audit show ${runId}`,
      });
      for (const line of describeReport(report)) context.out(line);
      const recorded = await recordEvalResult(context.home, report);
      context.out(
        `  recorded in ${evalHistoryPath(context.home)} as autonomy evidence for provider ${recorded.provider}`,
      );
      if (run.resumed > 0) context.out(`  (${run.resumed} cases taken over from the interrupted run)`);
      if (options.out) await writeFile(options.out, `${JSON.stringify(report, null, 2)}\n`);
      if (options.html) await writeFile(options.html, renderHtmlReport(report));
      if (options.baseline) {
        const regressions = compareToBaseline(
          report.metrics,
          await readBaseline(options.baseline),
          options.tolerance,
        );
        for (const regression of regressions)
          process.stderr.write(
            `warden: regression: ${regression.metric} ${percent(regression.current)} against baseline ${percent(regression.baseline)} (tolerance ${options.tolerance})\n`,
          );
        if (regressions.length > 0) process.exitCode = 1;
        else context.out(`  no regression against ${options.baseline} (tolerance ${options.tolerance})`);
      }
    });

  command
    .command('build')
    .description('build a suite from Security-Datasets archives and Sigma rules, labelled by process lineage')
    .option('--spec <build.yaml>', 'read these options from a build spec (evals/<name>/build.yaml)')
    .option('--datasets <paths...>', 'archives or folders of archives (their _metadata beside or above)')
    .option('--rules <dirs...>', 'Sigma rule folders')
    .option('--out <dir>', 'suite directory to write')
    .option('--name <name>', 'suite name (default: the --out folder name)')
    .option('--min-level <level>', `lowest rule level (${ruleLevels.join(', ')})`, 'medium')
    .option('--split <split>', 'keep only the train or test datasets')
    .option('--seed <text>', 'seed of the train/test split by dataset', 'warden')
    .option('--test-share <share>', 'share of datasets in the test split', share, 0.3)
    .option('--cap <n>', 'most cases per dataset and label', wholeNumber, 40)
    .option('--scratch-home <dir>', 'where the archives are loaded (default <home>/eval-build; reused)')
    .action(async (given: BuildOptions, self: Command) => {
      const context = await cliContext(self);
      // `eval` has an --out of its own (the report), which commander fills first.
      const out = given.out ?? self.parent?.opts<{ out?: string }>().out;
      if (out) given.out = out;
      const options = given.spec ? { ...given, ...(await readBuildSpec(given.spec, given.split)) } : given;
      if (!options.datasets?.length || !options.rules?.length || !options.out)
        throw new InputError('eval build needs --datasets, --rules and --out (or a --spec naming them)');
      if (!ruleLevels.includes(options.minLevel))
        throw new InputError(`--min-level must be one of ${ruleLevels.join(', ')}`);
      if (options.split && options.split !== 'train' && options.split !== 'test')
        throw new InputError('--split must be train or test');
      const build: BuildSuiteOptions = {
        name: options.name ?? resolve(options.out).split(/[\\/]/).at(-1) ?? 'suite',
        datasets: options.datasets,
        rules: options.rules,
        out: options.out,
        scratchHome: options.scratchHome ?? join(context.home, 'eval-build'),
        minLevel: options.minLevel,
        seed: options.seed,
        testShare: options.testShare,
        capPerDataset: options.cap,
        ...(options.split ? { split: options.split } : {}),
        onProgress: (message) => process.stderr.write(`warden: ${message}\n`),
      };
      const summary = await buildSuite(build);
      context.out(
        `${summary.suiteDir}: ${summary.cases} cases (${summary.malicious} malicious, ${summary.benign} benign) from ${summary.datasets.filter((d) => d.malicious + d.benign > 0).length} datasets, ${summary.rules} rules${summary.unlabelled > 0 ? `; ${summary.unlabelled} alerts left out for naming no acting process` : ''}`,
      );
      for (const dataset of summary.datasets)
        if (dataset.skipped && !dataset.skipped.startsWith('in the '))
          context.out(`  skipped ${dataset.archive.split(/[\\/]/).at(-1)}: ${dataset.skipped}`);
    });
  return command;
}
