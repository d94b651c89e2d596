import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { FileStore, Output } from '../../core/ports.js';
import { SecretsError } from '../../core/errors.js';
import { rules } from '../../core/scan/rules.js';
import type { ScanSources } from '../../core/scan/ports.js';
import { DEFAULT_MAX_FILE_SIZE, runScan, type ScanInput, type ScanMode } from '../../commands/scan.js';
import { installScanHook } from '../../commands/scan-hook.js';
import { renderScanJson } from '../../report/scan-json.js';
import { renderScanSarif } from '../../report/scan-sarif.js';
import { renderScanText } from '../../report/scan-text.js';
import { createProgressBar } from '../render/progress.js';

export interface ScanCommandContext {
  output: Output;
  /** The one way a command reports its exit code; src/cli/main.ts sets it on the process. */
  setExitCode(code: number): void;
  version: string;
  sources: ScanSources;
  files: FileStore;
  cwd?: string;
}

interface ScanOptions {
  staged?: boolean;
  history?: boolean;
  since?: string;
  range?: string;
  maxFileSize?: string;
  baseline?: string;
  writeBaseline?: string;
  json?: boolean;
  format?: 'text' | 'json' | 'sarif';
  reveal?: boolean;
  policy?: string;
  installHook?: boolean;
}

/** Sizes as bytes or with a unit: 512k, 10MB, 1g. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(text.trim());
  if (!match) throw new SecretsError('bad-option', `--max-file-size: expected a size like 10MB or 500000, got "${text}"`);
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(match[1]) * scale);
}

function modeOf(options: ScanOptions): ScanMode {
  if (options.staged && options.history) throw new SecretsError('bad-option', '--staged and --history cannot be used together');
  if ((options.since || options.range) && !options.history) throw new SecretsError('bad-option', '--since and --range only apply to --history');
  return options.staged ? 'staged' : options.history ? 'history' : 'tree';
}

export function scanCommand(context: ScanCommandContext): Command {
  const command = new Command('scan')
    .description('find leaked secrets in files, the staged change (--staged) or the whole git history (--history)')
    .argument('[paths...]', 'files or folders to scan (default: the whole working tree)')
    .option('--staged', 'scan only what the staged change adds (for a pre-commit hook)')
    .option('--history', 'scan every commit of every ref')
    .option('--since <rev>', 'with --history: only commits after this revision')
    .option('--range <range>', 'with --history: only this revision range, e.g. v1.0..main')
    .option('--max-file-size <size>', `skip files larger than this (default ${DEFAULT_MAX_FILE_SIZE / 1024 / 1024}MB)`)
    .option('--baseline <file>', 'accept the findings listed in this baseline; report only new ones')
    .option('--write-baseline <file>', 'write the current findings to this baseline file')
    .option('--json', 'machine-readable output (same as --format json)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif']))
    .option('--reveal', 'show whole secret values (they are redacted by default)')
    .option('--policy <file>', 'policy whose managed values are searched for (default: secrets.yaml if present)')
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
    .action(async (paths: string[], options: ScanOptions) => {
      const cwd = context.cwd ?? process.cwd();
      if (options.installHook) {
        const installed = await installScanHook({ cwd }, context);
        context.output.out(`${installed.replaced ? 'updated' : 'installed'} the pre-commit hook: ${installed.path}\n`);
        context.setExitCode(0);
        return;
      }
      const input: ScanInput = { cwd, paths, mode: modeOf(options) };
      if (options.since) input.since = options.since;
      if (options.range) input.range = options.range;
      if (options.maxFileSize) input.maxFileSize = parseSize(options.maxFileSize);
      if (options.baseline) input.baseline = options.baseline;
      if (options.writeBaseline) input.writeBaseline = options.writeBaseline;
      const policy = options.policy ?? process.env.SECRETS_POLICY ?? (existsSync(`${cwd}/secrets.yaml`) ? 'secrets.yaml' : undefined);
      if (policy) input.policy = policy;
      const format = options.format ?? (options.json ? 'json' : 'text');
      const progress = createProgressBar(context.output);
      const outcome = await runScan(input, { sources: context.sources, files: context.files, progress });
      const reveal = options.reveal ?? false;
      if (format === 'json') context.output.out(renderScanJson(outcome.findings, { reveal }));
      else if (format === 'sarif') context.output.out(renderScanSarif(outcome.findings, { version: context.version, reveal, rules }));
      else context.output.out(renderScanText(outcome.findings, outcome, { reveal }));
      context.setExitCode(outcome.exitCode);
    });
  return command;
}
