import { Command, Option } from 'commander';
import type { CliContext } from './context.js';
import { registerApprove } from './commands/approve.js';
import { registerBackup } from './commands/backup.js';
import { registerCheck } from './commands/check.js';
import { registerDemo } from './commands/demo.js';
import { registerDingtalkServer } from './commands/dingtalk-server.js';
import { registerInit } from './commands/init.js';
import { registerLog } from './commands/log.js';
import { registerRecord } from './commands/record.js';
import { registerRotate } from './commands/rotate.js';
import { registerNotify } from './commands/notify.js';
import { registerRestore } from './commands/restore.js';
import { registerRevoke } from './commands/revoke.js';
import { registerSweep } from './commands/sweep.js';
import { registerScan } from './commands/scan.js';
import { registerFleet } from './commands/fleet.js';
import { registerSync } from './commands/sync.js';

export const VERSION = '0.1.0';

/** Builds the commander program; each command file adds itself. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('secrets')
    .description("keeps a deployment's secrets rotated, backed up, unleaked and on schedule")
    .version(VERSION, '-V, --version')
    .option('--policy <file>', 'policy file (default: $SECRETS_POLICY or ./secrets.yaml)')
    .option('--json', 'machine-readable output')
    .option('--no-color', 'no colours (also: NO_COLOR)')
    .option('--as-of <date>', 'evaluate as if today were DATE (YYYY-MM-DD)')
    .addOption(new Option('-q, --quiet', 'only problems and errors'))
    // A usage error carries its code like every other error (docs/errors.md).
    .configureOutput({ outputError: (text, write) => write(`secrets: [usage] ${text.replace(/^error: /, '')}`) })
    .showHelpAfterError('(run secrets --help or secrets COMMAND --help)')
    .exitOverride();

  registerInit(program, ctx);
  registerCheck(program, ctx);
  registerLog(program, ctx);
  registerRecord(program, ctx);
  registerRotate(program, ctx);
  registerRevoke(program, ctx);
  registerApprove(program, ctx);
  registerSweep(program, ctx);
  registerNotify(program, ctx);
  registerBackup(program, ctx);
  registerRestore(program, ctx);
  registerScan(program, ctx);
  registerFleet(program, ctx);
  registerSync(program, ctx);
  registerDemo(program, ctx);
  registerDingtalkServer(program, ctx);

  for (const command of program.commands) command.exitOverride();
  return program;
}
