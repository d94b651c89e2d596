import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { startLocalDingtalkServer } from '../../adapters/dingtalk-local-server.js';
import { ExitCode, SecretsError } from '../../core/errors.js';
import type { CliContext } from '../context.js';

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('build a throwaway deployment in a temp folder and run the whole cycle on it')
    .option('--keep', 'keep the temp folder afterwards to look around (its path is printed)')
    .addHelpText(
      'after',
      `
Touches nothing outside its temp folder: its own runs get HOME, GNUPGHOME, TMPDIR and the
state folder inside it, and a local DingTalk-compatible server on 127.0.0.1 stands in for DingTalk.

Exit codes: 0 every step behaved as expected, 3 a step surprised (named in the output) or the demo could not run.

Examples:
  npx secrets demo
  secrets demo --keep`,
    )
    .action(async (options: { keep?: boolean }, command: Command) => {
      const json = Boolean(ctx.globals(command).json);
      const printed = ctx.deps(command);
      // With --json, stdout holds one JSON document (the outcome); the walk-through goes to stderr.
      const deps = json ? { ...printed, output: { ...printed.output, out: printed.output.err } } : printed;
      const workspace = await mkdtemp(join(tmpdir(), 'secrets-demo-'));
      // Ctrl+C (or a kill) stops the current run; the finally below still stops the server and removes the folder.
      const interruption = new AbortController();
      const interrupt = () => interruption.abort();
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      let robotServer: Awaited<ReturnType<typeof startLocalDingtalkServer>> | undefined;
      try {
        // Loaded on demand: the demo's server and steps are not part of every command's start-up.
        const [{ startLocalDingtalkServer: startServer }, { runSecretsProcess }, { runDemo }] = await Promise.all([
          import('../../adapters/dingtalk-local-server.js'),
          import('../../adapters/secrets-process.js'),
          import('../../services/demo.js'),
        ]);
        robotServer = await startServer();
        const server = robotServer;
        const outcome = await runDemo(
          { workspace, path: ctx.env.PATH ?? '/usr/bin:/bin', signal: interruption.signal },
          {
            ...deps,
            robotServer: server,
            runSecrets: (args, runOptions) => runSecretsProcess(args, { ...runOptions, signal: interruption.signal }),
          },
        );
        if (!outcome.ok) ctx.report(ExitCode.failed);
        if (json)
          printed.output.out(
            `${JSON.stringify({ ok: outcome.ok, surprises: outcome.surprises, ...(options.keep ? { kept: workspace } : {}) }, null, 2)}\n`,
          );
      } catch (error) {
        if (interruption.signal.aborted)
          throw new SecretsError('interrupted', 'demo interrupted; its temp folder is removed');
        throw error;
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
        await robotServer?.close();
        if (options.keep)
          deps.output.out(
            `\nKept the demo's folder: ${workspace}\n(the deployment is in mt5-crs/; remove it with: rm -rf ${workspace})\n`,
          );
        else await rm(workspace, { recursive: true, force: true });
      }
    });
}
