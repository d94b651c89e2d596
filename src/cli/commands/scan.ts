import { Command, Option } from 'commander';
import { SecretsError } from '../../core/errors.js';
import { rules } from '../../core/scan/rules.js';
import { policyPathFrom } from '../../services/policy/load-policy.js';
import type { CliContext } from '../context.js';
import { VERSION } from '../program.js';
import { DEFAULT_MAX_FILE_SIZE, runScan, type ScanInput, type ScanMode } from '../../services/scan.js';
import { installScanHook } from '../../services/scan/install-hook.js';
import { renderScanJson } from '../../report/scan-json.js';
import { renderScanSarif } from '../../report/scan-sarif.js';
import { renderScanText } from '../../report/scan-text.js';
import { createProgressBar } from '../render/progress.js';

interface ScanOptions {
  staged?: boolean;
  history?: boolean;
  since?: string;
  range?: string;
  maxFileSize?: string;
  baseline?: string;
  writeBaseline?: string;
  format?: 'text' | 'json' | 'sarif';
  reveal?: boolean;
  installHook?: boolean;
  historyEngine?: 'diff' | 'blobs';
}

/** Sizes as bytes or with a unit: 512k, 10MB, 1g. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(text.trim());
  if (!match)
    throw new SecretsError('bad-option', `--max-file-size: expected a size like 10MB or 500000, got "${text}"`);
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(match[1]) * scale);
}

function modeOf(options: ScanOptions): ScanMode {
  if (options.staged && options.history)
    throw new SecretsError('bad-option', '--staged and --history cannot be used together');
  if (options.historyEngine && !options.history)
    throw new SecretsError('bad-option', '--history-engine only applies to --history');
  if ((options.since || options.range) && !options.history)
    throw new SecretsError('bad-option', '--since and --range only apply to --history');
  return options.staged ? 'staged' : options.history ? 'history' : 'tree';
}

export function registerScan(program: Command, ctx: CliContext): void {
  program
    .command('scan')
    .description('find leaked secrets in files, the staged change (--staged) or the whole git history (--history)')
    .argument('[paths...]', 'files or folders to scan (default: the whole working tree)')
    .option('--staged', 'scan only what the staged change adds (for a pre-commit hook)')
    .option('--history', 'scan every commit of every ref')
    .option('--since <rev>', 'with --history: only commits after this revision')
    .option('--range <range>', 'with --history: only this revision range, e.g. v1.0..main')
    .addOption(
      new Option(
        '--history-engine <engine>',
        'with --history: read every diff, or each blob once and diff only commits bringing a finding',
      ).choices(['diff', 'blobs']),
    )
    .option('--max-file-size <size>', `skip files larger than this (default ${DEFAULT_MAX_FILE_SIZE / 1024 / 1024}MB)`)
    .option('--baseline <file>', 'accept the findings listed in this baseline; report only new ones')
    .option('--write-baseline <file>', 'write the current findings to this baseline file')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif']))
    .option('--reveal', 'show whole secret values (they are redacted by default)')
    .option('--install-hook', 'install a git pre-commit hook that runs secrets scan --staged')
    .addHelpText(
      'after',
      `
Exit codes: 0 no leaks, 1 leaks found, 2 a managed secret leaked, 3 could not run.

Examples:
  $ secrets scan                                  # tracked and untracked (not ignored) files
  $ secrets scan --history --format sarif > scan.sarif
  $ secrets scan --write-baseline .secrets-baseline.json   # accept today's findings
  $ secrets scan --baseline .secrets-baseline.json          # fail only on new ones
  $ secrets scan --install-hook                   # block commits that add a secret`,
    )
    .action(async (paths: string[], options: ScanOptions, command: Command) => {
      const deps = ctx.deps(command);
      const globals = ctx.globals(command);
      const sources = await deps.scanSources!();
      if (options.installHook) {
        const installed = await installScanHook({ cwd: deps.cwd }, { sources, files: deps.files });
        deps.output.out(`${installed.replaced ? 'updated' : 'installed'} the pre-commit hook: ${installed.path}\n`);
        ctx.report(0);
        return;
      }
      const input: ScanInput = { cwd: deps.cwd, paths, mode: modeOf(options) };
      if (options.since) input.since = options.since;
      if (options.range) input.range = options.range;
      if (options.historyEngine) input.historyEngine = options.historyEngine;
      if (options.maxFileSize) input.maxFileSize = parseSize(options.maxFileSize);
      if (options.baseline) input.baseline = options.baseline;
      if (options.writeBaseline) input.writeBaseline = options.writeBaseline;
      // Managed values are searched when there is a policy: an explicit one must exist, the default only if present.
      const policyPath = policyPathFrom(globals.policy, deps);
      if (globals.policy !== undefined || deps.env.SECRETS_POLICY !== undefined || (await deps.files.stat(policyPath)))
        input.policy = policyPath;
      if (input.policy !== undefined) input.pastValues = true;
      const format = options.format ?? (globals.json ? 'json' : 'text');
      const progress = createProgressBar(deps.output);
      const outcome = await runScan(input, { sources, files: deps.files, progress });
      const reveal = options.reveal ?? false;
      const { skipped, scanned } = outcome;
      if (format === 'json') deps.output.out(renderScanJson(outcome.findings, { reveal, scanned, skipped }));
      else if (format === 'sarif')
        deps.output.out(renderScanSarif(outcome.findings, { version: VERSION, reveal, rules, skipped }));
      else deps.output.out(renderScanText(outcome.findings, outcome, { reveal }));
      ctx.report(outcome.exitCode);
    });
}
