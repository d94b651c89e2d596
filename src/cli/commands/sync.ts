import type { Command } from 'commander';
import { SecretsError } from '../../core/errors.js';
import type { SyncOutcome } from '../../services/fleet/sync.js';
import type { CliContext } from '../context.js';

/** `secrets sync [--watch]`: this host brought to the fleet's versions (docs/fleet.md). */
export function registerSync(program: Command, ctx: CliContext): void {
  program
    .command('sync')
    .description("bring this host's shared secrets to the fleet's versions (decrypt, write, hooks, acknowledge)")
    .option('--watch', 'stay running: sync again on every change in the fleet (a service); SIGTERM stops it')
    .addHelpText(
      'after',
      `
Idempotent: a file that already holds the fleet's value is not rewritten and its hooks do not run.
Run it from cron or a systemd timer, or as a service with --watch (docs/fleet.md has the unit).

Exit codes: 0 in step with the fleet, 3 a secret could not be applied (rolled back here, reported to
the rotator) or etcd unreachable, 4 a roll-back failed: the message says what to do.

Examples:
  secrets sync
  secrets sync --watch`,
    )
    .action(async (options: { watch?: boolean }, command: Command) => {
      const deps = ctx.deps(command);
      const policy = await ctx.policy(command, deps);
      const asJson = Boolean(ctx.globals(command).json);
      const runDeps = asJson ? { ...deps, output: { ...deps.output, out: deps.output.err } } : deps;
      const print = (outcome: SyncOutcome) => {
        if (asJson) return deps.output.out(`${JSON.stringify(outcome)}\n`);
        for (const item of outcome.applied) deps.output.out(`${item.secret}: version ${item.version} applied\n`);
        for (const id of outcome.completed) deps.output.out(`${id}: every host has it now; made current\n`);
        for (const item of outcome.failed)
          deps.output.err(
            `secrets: [${item.code}] ${item.secret}: version ${item.version} not applied: ${item.message}\n`,
          );
      };
      const { fleetSpecOf } = await import('../../services/fleet/store.js');
      fleetSpecOf(policy);
      if (options.watch) {
        const { runSyncWatch } = await import('../../services/fleet/sync-watch.js');
        const stop = new Promise<void>((resolve) => {
          process.once('SIGTERM', () => resolve());
          process.once('SIGINT', () => resolve());
        });
        deps.output.err(`secrets sync: watching the fleet for ${policy.doc.fleet!.host}\n`);
        await runSyncWatch(policy, runDeps, print, stop);
        return;
      }
      const { openFleet } = await import('../../services/fleet/store.js');
      const { syncHost } = await import('../../services/fleet/sync.js');
      const fleet = await openFleet(policy, deps);
      try {
        const outcome = await syncHost(policy, fleet, runDeps);
        if (asJson) deps.output.out(`${JSON.stringify(outcome, null, 2)}\n`);
        else {
          print(outcome);
          if (outcome.applied.length === 0 && outcome.failed.length === 0)
            deps.output.out(`in step with the fleet: ${outcome.unchanged.join(', ') || 'no shared secret yet'}\n`);
        }
        if (outcome.failed.length > 0)
          throw new SecretsError(
            'fleet-apply-failed',
            `${outcome.failed.map((item) => `${item.secret} version ${item.version}`).join(', ')} not applied on ${outcome.host} (nothing of it stays here); the failure was reported to the fleet`,
          );
      } finally {
        await fleet.close();
      }
    });
}
