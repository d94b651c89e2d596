import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ReceivedMessage } from '../../adapters/dingtalk-local-server.js';
import { SecretsError, errnoCode } from '../../core/errors.js';
import type { CliContext } from '../context.js';

/**
 * `secrets dingtalk-server`: the local DingTalk-compatible robot server of `secrets demo`, on its
 * own, so an operator can try a DingTalk rotation by hand without DingTalk. Its robots' URL and
 * secret pairs go to files (mode 600) in dotenv form, ready for .env and for `secrets rotate
 * dingtalk --yes < robot-2.env`; stdout shows only paths and what arrived, never a credential.
 */
export function registerDingtalkServer(program: Command, ctx: CliContext): void {
  program
    .command('dingtalk-server')
    .description('a local DingTalk-compatible robot server on 127.0.0.1, to try a rotation by hand')
    .option('--port <port>', 'the port on 127.0.0.1 (default: a free one)')
    .option('--robots <n>', 'how many signed robots to create (default 2)')
    .option('--out <dir>', 'where to write robot-N.env with each robot URL and secret (default: the current folder)')
    .addHelpText(
      'after',
      `
Runs until Ctrl+C. Listens on 127.0.0.1 only. The robots live as long as the server: their files
hold a fresh URL and signing secret each run.

Exit codes: 0 stopped by Ctrl+C (or SIGTERM), 3 could not start (port taken, folder missing).

Examples:
  secrets dingtalk-server --out /tmp/robots       # then, in another terminal:
  cat /tmp/robots/robot-1.env >> .env             # the "current" robot of a test deployment
  secrets rotate dingtalk --yes < /tmp/robots/robot-2.env`,
    )
    .action(async (options: { port?: string; robots?: string; out?: string }, command: Command) => {
      const deps = ctx.deps(command);
      const port = options.port === undefined ? 0 : Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new SecretsError('bad-option', `--port: expected a port number, got "${options.port}"`);
      const count = options.robots === undefined ? 2 : Number(options.robots);
      if (!Number.isInteger(count) || count < 1 || count > 20)
        throw new SecretsError('bad-option', `--robots: expected 1 to 20, got "${options.robots}"`);
      const dir = resolve(deps.cwd, options.out ?? '.');
      if (!(await deps.files.stat(dir))?.isDirectory)
        throw new SecretsError('bad-option', 'the folder for the robot files does not exist', { where: dir });

      const { startLocalDingtalkServer } = await import('../../adapters/dingtalk-local-server.js');
      const names = new Map<string, string>();
      const show = (message: ReceivedMessage) => {
        const robot = names.get(message.accessToken) ?? 'unknown robot';
        const verdict = message.errcode === 0 ? 'accepted' : `refused (errcode ${message.errcode ?? 'none'})`;
        const firstLine = message.text.split('\n')[0]!.slice(0, 100);
        deps.output.out(`${new Date().toISOString()}  ${robot}: ${verdict}  ${firstLine}\n`);
      };
      const server = await startLocalDingtalkServer({ port, onMessage: show }).catch((error: unknown) => {
        throw new SecretsError(
          'listen-failed',
          `cannot listen on 127.0.0.1:${port} (${errnoCode(error) ?? String(error)})`,
        );
      });
      try {
        for (let n = 1; n <= count; n++) {
          const robot = server.addRobot();
          names.set(robot.accessToken, `robot-${n}`);
          const file = join(dir, `robot-${n}.env`);
          await deps.files.writeAtomic(file, `DINGTALK_WEBHOOK_URL=${robot.url}\nDINGTALK_SECRET=${robot.secret}\n`, {
            mode: 0o600,
          });
          deps.output.out(`robot-${n}: ${file}\n`);
        }
        deps.output.out(`listening on ${server.baseUrl} (127.0.0.1 only); Ctrl+C stops it\n`);
        await new Promise<void>((done) => {
          process.once('SIGINT', done);
          process.once('SIGTERM', done);
        });
      } finally {
        await server.close();
      }
      deps.output.out('stopped\n');
    });
}
