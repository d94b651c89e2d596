import type { Command } from 'commander';
import { SecretsError } from '../../core/errors.js';
import type { CliContext } from '../context.js';

interface ApproveOptions {
  key: string;
  after?: string;
  passphraseEnv?: string;
  yes?: boolean;
}

export function registerApprove(program: Command, ctx: CliContext): void {
  program
    .command('approve')
    .description('two-person approval: sign a change request (or, with --after, a revocation) with your OpenPGP key')
    .argument('[request]', 'the change request file written by secrets rotate ID --request FILE')
    .requiredOption('--key <file>', 'your armored OpenPGP private key (gpg --armor --export-secret-keys)')
    .option('--after <seq>', 'post-incident approval of a revocation: its audit number (secrets log); uses the policy')
    .option('--passphrase-env <name>', 'the variable holding the key passphrase (default SECRETS_KEY_PASSPHRASE)')
    .option('-y, --yes', 'no confirmation prompt')
    .addHelpText(
      'after',
      `
Shows the plan in words (secrets, files, hooks, requester, ticket, expiry, digest), then writes an
armored detached signature beside the request as REQUEST.<key fingerprint>.sig. It needs only the
request file, not the deployment: send the .sig back to whoever runs secrets rotate --approved.
gpg --armor --detach-sign -o REQUEST.NAME.sig REQUEST makes a signature that is accepted too.

The passphrase of the key comes from the variable named by --passphrase-env (default
SECRETS_KEY_PASSPHRASE) or a hidden prompt; never from the command line.

With --after SEQ (on the deployment): records your signed approval, after the fact, of the
revocation at audit #SEQ; secrets check stays critical until one is recorded.

Exit codes: 0 signed (recorded), 3 nothing signed (unreadable or expired request, wrong passphrase,
not a pinned approver with --after).

Examples:
  secrets approve /tmp/rotate-dashboard.json --key ~/.keys/bob-secret.asc
  SECRETS_KEY_PASSPHRASE=... secrets approve req.json --key bob.key --yes
  secrets approve --after 42 --key ~/.keys/alice-secret.asc`,
    )
    .action(async (request: string | undefined, options: ApproveOptions, command: Command) => {
      const base = ctx.deps(command);
      const json = Boolean(ctx.globals(command).json);
      // With --json, stdout holds the JSON document only; the plan goes to stderr.
      const deps = json ? { ...base, output: { ...base.output, out: base.output.err } } : base;
      const print = (value: unknown) => {
        if (json) base.output.out(`${JSON.stringify(value, null, 2)}\n`);
      };
      const signing = {
        keyFile: options.key,
        ...(options.passphraseEnv ? { passphraseEnv: options.passphraseEnv } : {}),
      };
      if (options.after !== undefined) {
        if (request !== undefined)
          throw new SecretsError('bad-option', '--after approves a revocation: give no request file with it');
        const seq = Number(options.after);
        if (!Number.isSafeInteger(seq) || seq < 1)
          throw new SecretsError('bad-option', `--after: expected an audit number like 42, got "${options.after}"`);
        const policy = await ctx.policy(command, deps);
        const { runApproveAfter } = await import('../../services/approve.js');
        print(await runApproveAfter({ policy, revocation: seq, ...signing, yes: Boolean(options.yes) }, deps));
        return;
      }
      if (request === undefined)
        throw new SecretsError('bad-option', 'name the change request to sign (or --after SEQ for a revocation)');
      const { runApprove } = await import('../../services/approve.js');
      print(await runApprove({ requestPath: request, ...signing, yes: Boolean(options.yes) }, deps));
    });
}
