import type { Command } from 'commander';
import { ExitCode, SecretsError } from '../../core/errors.js';
import type { CliContext } from '../context.js';

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** `secrets fleet …`: several hosts sharing secrets through etcd (docs/fleet.md). */
export function registerFleet(program: Command, ctx: CliContext): void {
  const fleet = program
    .command('fleet')
    .description('several hosts, one rotation: the fleet of hosts that share secrets through etcd')
    .addHelpText(
      'after',
      `
The policy's fleet: section names the etcd cluster, the key prefix and this host's name; secrets
with shared: true have one value for every host. docs/fleet.md has the whole picture.

Exit codes: 0 done, 3 refused or etcd unreachable (nothing changed).

Examples:
  secrets fleet init                                  # on the first host
  secrets fleet join                                  # on each other host: prints its key fingerprint
  secrets fleet admit api-2 --fingerprint "0A1B …"    # on a member, with the fingerprint join printed
  secrets fleet status
  secrets fleet remove api-3                          # names the secrets it could read: rotate them
  secrets fleet accept-state jwt                      # after etcd lost or went back on jwt's state`,
    );

  fleet
    .command('init')
    .description('create the fleet with this host as its only member; upload the shared values, encrypted')
    .action(async (_options: unknown, command: Command) => {
      const deps = ctx.deps(command);
      const policy = await ctx.policy(command, deps);
      const { runFleetInit } = await import('../../services/fleet/membership.js');
      const { formatFingerprint } = await import('../../services/fleet/store.js');
      const made = await runFleetInit(policy, deps);
      if (ctx.globals(command).json) return deps.output.out(json(made));
      deps.output.out(`fleet created at ${made.prefix}: ${made.host} is its only member\n`);
      deps.output.out(`  key fingerprint ${formatFingerprint(made.fingerprint)}\n`);
      deps.output.out(`  shared values uploaded (encrypted): ${made.uploaded.join(', ') || 'none'}\n`);
      for (const skipped of made.notUploaded) deps.output.out(`  not uploaded: ${skipped.id}: ${skipped.reason}\n`);
      deps.output.out('next: secrets fleet join on each other host, then secrets fleet admit HOST here\n');
    });

  fleet
    .command('join')
    .description("ask to join the fleet: publishes this host's public key for a member to admit")
    .action(async (_options: unknown, command: Command) => {
      const deps = ctx.deps(command);
      const policy = await ctx.policy(command, deps);
      const { runFleetJoin } = await import('../../services/fleet/membership.js');
      const { formatFingerprint } = await import('../../services/fleet/store.js');
      const joined = await runFleetJoin(policy, deps);
      if (ctx.globals(command).json) return deps.output.out(json(joined));
      const shown = formatFingerprint(joined.fingerprint);
      deps.output.out(`join request published for ${joined.host}; fingerprint ${shown}\n`);
      // What this host now trusts: the operator compares these with the members' own.
      for (const member of joined.members)
        deps.output.out(`  fleet member ${member.host}: key ${formatFingerprint(member.fingerprint)}\n`);
      deps.output.out(
        `on a member, after comparing the fingerprint: secrets fleet admit ${joined.host} --fingerprint "${shown}"\n`,
      );
    });

  fleet
    .command('admit')
    .description('admit a host that asked to join; every shared value is re-encrypted to it')
    .argument('<host>', 'the host name its fleet join published')
    .option('--fingerprint <fpr>', 'the key fingerprint fleet join printed on that host (needed without a terminal)')
    .action(async (host: string, options: { fingerprint?: string }, command: Command) => {
      const deps = ctx.deps(command);
      const policy = await ctx.policy(command, deps);
      const { runFleetAdmit } = await import('../../services/fleet/membership.js');
      const { formatFingerprint } = await import('../../services/fleet/store.js');
      const admitted = await runFleetAdmit(
        policy,
        { host, ...(options.fingerprint !== undefined ? { fingerprint: options.fingerprint } : {}) },
        deps,
      );
      if (ctx.globals(command).json) return deps.output.out(json(admitted));
      deps.output.out(
        `admitted ${admitted.host} (key ${formatFingerprint(admitted.fingerprint)}); it gets ${admitted.secrets.join(', ') || 'the shared values'} on its next secrets sync\n`,
      );
    });

  fleet
    .command('remove')
    .description('remove a member (or refuse a join request); the values are re-encrypted without it')
    .argument('<host>', 'the member to remove')
    .option('-y, --yes', 'no confirmation prompt')
    .action(async (host: string, options: { yes?: boolean }, command: Command) => {
      const deps = ctx.deps(command);
      const policy = await ctx.policy(command, deps);
      if (deps.interactive && !options.yes && !(await deps.prompts.confirm(`remove ${host} from the fleet?`, false)))
        throw new SecretsError('cancelled', 'not confirmed; nothing was changed');
      const { runFleetRemove } = await import('../../services/fleet/membership.js');
      const removed = await runFleetRemove(policy, host, deps);
      if (ctx.globals(command).json) return deps.output.out(json(removed));
      deps.output.out(
        removed.couldRead.length > 0
          ? `removed ${removed.removed}; it could read: ${removed.couldRead.join(', ')} — rotate them (secrets rotate ${removed.couldRead.join(' ')})\n`
          : `removed ${removed.removed}\n`,
      );
    });

  fleet
    .command('accept-state')
    .description("forget what this host saw of a shared secret's fleet state, after etcd lost or went back on it")
    .argument('<secret>', 'the shared secret whose state every host refuses (fleet-store-invalid)')
    .option('-y, --yes', 'no confirmation prompt')
    .addHelpText(
      'after',
      `
Only after checking (secrets log --fleet on a member) that the fleet's state really was lost or
restored, not changed by someone with write access to etcd: the state is still verified, but this
host no longer refuses one older than it saw. Audited here as fleet-state-accepted. Run it on each
host that refuses the state, then rotate the secret.`,
    )
    .action(async (secret: string, options: { yes?: boolean }, command: Command) => {
      const deps = ctx.deps(command);
      const policy = await ctx.policy(command, deps);
      if (
        deps.interactive &&
        !options.yes &&
        !(await deps.prompts.confirm(`accept the fleet's state of ${secret} as it is now?`, false))
      )
        throw new SecretsError('cancelled', 'not confirmed; nothing was changed');
      const { runFleetAcceptState } = await import('../../services/fleet/membership.js');
      const accepted = await runFleetAcceptState(policy, secret, deps);
      if (ctx.globals(command).json) return deps.output.out(json(accepted));
      const { forgot, now } = accepted;
      deps.output.out(
        `${secret}: forgot state ${forgot.seq ?? 'none'} (version ${forgot.current ?? 'none'} current); the fleet now holds ${
          now
            ? `state ${now.seq} by ${now.signedBy}: version ${now.current} current${now.pending !== null ? `, ${now.pending} pending` : ''}`
            : 'no state (the next rotation uploads one)'
        }\n`,
      );
    });

  fleet
    .command('status')
    .description('per host and shared secret: the version applied, the last sync, how far behind')
    .action(async (_options: unknown, command: Command) => {
      const deps = ctx.deps(command);
      const policy = await ctx.policy(command, deps);
      const { readFleetStatus } = await import('../../services/fleet/status.js');
      const status = await readFleetStatus(policy, deps);
      const behind = status.hosts.some((host) => Object.values(host.secrets).some((row) => !row.inStep));
      const pending = Object.values(status.secrets).some((secret) => secret.pending !== null);
      if (ctx.globals(command).json) deps.output.out(json(status));
      else {
        deps.output.out(`fleet ${status.prefix} (this host: ${status.host})\n`);
        for (const [id, secret] of Object.entries(status.secrets))
          deps.output.out(
            `  ${id}: version ${secret.current}${secret.pending !== null ? `, version ${secret.pending} pending (by ${secret.pendingBy}, waiting for ${secret.waitingFor?.join(', ') || 'nobody'})` : ''}\n`,
          );
        for (const host of status.hosts) {
          const rows = Object.entries(host.secrets)
            .map(
              ([id, row]) =>
                `${id} ${row.applied ?? '-'}${row.inStep ? '' : row.lag !== null && row.lag < 0 ? ` (holds dropped version ${row.applied}; goes back to ${row.target} on its next sync)` : ` (${row.lag ?? 'not'} behind ${row.target})`}`,
            )
            .join(', ');
          deps.output.out(`  ${host.host}: last sync ${host.lastSync ?? 'never'}; ${rows || 'no shared secret'}\n`);
        }
        for (const request of status.requests)
          deps.output.out(
            `  join request: ${request.host} (since ${request.requestedAt}): secrets fleet admit ${request.host}\n`,
          );
      }
      if (behind || pending) ctx.report(ExitCode.warning);
    });
}
