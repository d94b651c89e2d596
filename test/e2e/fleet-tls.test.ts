// Fleet mode (issue 17) over what a real cluster demands: https with a client certificate, and etcd
// authentication with a user whose role is limited to the fleet's prefix. Through bin/secrets,
// against real 1-member etcd clusters; the certificates and the passwords are made at run time.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { describeWithEtcd, makeCertificateAuthority, startEtcdCluster, type EtcdCluster } from '../helpers/etcd.js';
import { encodedForms, makeFleet, SHARED_ID, type Fleet, type FleetHost } from '../helpers/fleet.js';

const PASSWORD_ENV = 'SECRETS_ETCD_PASSWORD';

/** Changes entries of a host's fleet.etcd section (undefined removes one). */
function editEtcd(host: FleetHost, changes: Record<string, unknown>): void {
  const policy = parse(readFileSync(host.policyPath, 'utf8')) as { fleet: { etcd: Record<string, unknown> } };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete policy.fleet.etcd[key];
    else policy.fleet.etcd[key] = value;
  }
  writeFileSync(host.policyPath, stringify(policy));
}

/** What a command could change on a host (its .env, its hook runs), to prove it changed none. */
function snapshot(fleet: Fleet): string[] {
  return fleet.hosts.map((host) => `${host.env()}\n--\nhook runs: ${host.hookRuns()}`);
}

/** One line on stderr, naming the error's code; no stack trace. */
function expectOneLineError(result: { code: number | null; stdout: string; stderr: string }, code: string): string {
  expect(result.code, result.stdout + result.stderr).toBe(3);
  expect(result.stderr).toContain(`[${code}]`);
  const lines = result.stderr.split('\n').filter((line) => line.trim() !== '' && !/^\s*hint:/i.test(line));
  expect(lines, result.stderr).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

describeWithEtcd('fleet over TLS and with etcd authentication through bin/secrets', () => {
  let tlsCluster: EtcdCluster;
  let authCluster: EtcdCluster;
  beforeAll(async () => {
    [tlsCluster, authCluster] = await Promise.all([
      startEtcdCluster({ members: 1, tls: true }),
      startEtcdCluster({ members: 1 }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([tlsCluster?.stop(), authCluster?.stop()]);
  });

  const tlsFleet = () => {
    const tls = tlsCluster.tls!;
    expect(tlsCluster.endpoints.every((endpoint) => endpoint.startsWith('https://'))).toBe(true);
    return makeFleet(tlsCluster, { hosts: 2, etcd: { ca: tls.ca, cert: tls.cert, key: tls.key } });
  };

  it('a 2-host fleet over https with a client certificate: init, join, admit, one rotation reaching both', async () => {
    const fleet = tlsFleet();
    await fleet.setUp();
    await fleet.startSyncs();
    const [h1, h2] = fleet.hosts as [FleetHost, FleetHost];
    expect(h2.value()).toBe(fleet.initialShared);

    const rotate = await h1.run(['rotate', SHARED_ID, '--yes']);
    expect(rotate.code, rotate.stdout + rotate.stderr).toBe(0);
    const value = h1.value()!;
    expect(value).toMatch(/^[0-9a-f]{64}$/);
    expect(value).not.toBe(fleet.initialShared);
    expect(h2.value()).toBe(value);
    expect([h1.hookRuns(), h2.hookRuns()]).toEqual([1, 1]);
    const status = await fleet.status(h2);
    expect(status.secrets[SHARED_ID]).toMatchObject({ current: 2, pending: null });
    expect(status.hosts.map((host) => host.host)).toEqual(['api-1', 'api-2']);
  });

  it('a CA that did not sign the server: exit 3 etcd-unreachable, one line, nothing changed', async () => {
    const fleet = tlsFleet();
    await fleet.setUp();
    const [h1, h2] = fleet.hosts as [FleetHost, FleetHost];
    const other = makeCertificateAuthority(join(tlsCluster.tls!.dir, `other-${randomBytes(4).toString('hex')}`));
    editEtcd(h2, { ca: other.cert });
    const before = snapshot(fleet);
    const stored = await fleet.rawDump();

    for (const args of [['rotate', SHARED_ID, '--yes'], ['sync'], ['fleet', 'status']]) {
      const result = await h2.run(args);
      const line = expectOneLineError(result, 'etcd-unreachable');
      expect(line).toContain(new URL(tlsCluster.endpoints[0]!).host);
      expect(snapshot(fleet)).toEqual(before);
    }
    expect(await fleet.rawDump()).toBe(stored);
    expect(h1.value()).toBe(fleet.initialShared);
  });

  it('a client certificate that does not exist: exit 3 etcd-credentials naming the file, with or without ca', async () => {
    const fleet = tlsFleet();
    await fleet.setUp();
    const host = fleet.hosts[1]!;
    const missing = join(tlsCluster.tls!.dir, `absent-${randomBytes(4).toString('hex')}.pem`);
    const before = snapshot(fleet);
    const stored = await fleet.rawDump();

    // With the CA, and without it (servers signed by a public CA): the client certificate still counts.
    for (const ca of [tlsCluster.tls!.ca, undefined]) {
      editEtcd(host, { cert: missing, ca });
      for (const args of [['rotate', SHARED_ID, '--yes'], ['sync']]) {
        const line = expectOneLineError(await host.run(args), 'etcd-credentials');
        expect(line).toContain(missing);
        expect(line).toMatch(/fleet\.etcd\.cert/);
      }
    }
    expect(snapshot(fleet)).toEqual(before);
    expect(await fleet.rawDump()).toBe(stored);

    // The real certificate without ca: (the server's CA taken from the system's roots, here grpc's
    // roots file) is sent, and etcd, which demands one, lets the host in.
    editEtcd(host, { cert: tlsCluster.tls!.cert, ca: undefined });
    const sync = await host.run(['sync'], { env: { GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: tlsCluster.tls!.ca } });
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    expect(snapshot(fleet)).toEqual(before);
  });

  it('etcd authentication: a user limited to the prefix works; a wrong or unset password fails cleanly and never shows', async () => {
    await authCluster.enableAuth();
    const prefix = `/secrets/test-${randomBytes(6).toString('hex')}`;
    const user = `bot-${randomBytes(3).toString('hex')}`;
    const password = randomBytes(12).toString('base64url');
    const root = async (args: string[], input?: string) => {
      const result = await authCluster.etcdctl(args, input === undefined ? {} : { input });
      expect(result.code, `etcdctl ${args.join(' ')}: ${result.stderr}`).toBe(0);
      return result;
    };
    await root(['role', 'add', user]);
    await root(['role', 'grant-permission', user, '--prefix=true', 'readwrite', `${prefix}/`]);
    await root(['user', 'add', user, '--interactive=false'], `${password}\n`);
    await root(['user', 'grant-role', user, user]);

    const fleet = makeFleet(authCluster, {
      hosts: 2,
      // The prefix the user's role covers, and nothing else.
      prefix,
      etcd: { user, password_env: PASSWORD_ENV },
      env: { [PASSWORD_ENV]: password },
      // The hook records its whole environment: the etcd password must not be in it.
      hook: 'echo x >> hook.log; env > hook-env.txt',
    });
    await fleet.setUp();
    await fleet.startSyncs();
    const [h1, h2] = fleet.hosts as [FleetHost, FleetHost];
    const outputs: string[] = [];

    const rotate = await h1.run(['rotate', SHARED_ID, '--yes']);
    outputs.push(rotate.stdout, rotate.stderr);
    expect(rotate.code, rotate.stdout + rotate.stderr).toBe(0);
    const value = h1.value()!;
    expect(value).not.toBe(fleet.initialShared);
    expect(h2.value()).toBe(value);
    expect([h1.hookRuns(), h2.hookRuns()]).toEqual([1, 1]);
    for (const host of [h1, h2]) {
      const hookEnv = readFileSync(host.path('hook-env.txt'), 'utf8');
      expect(hookEnv).toContain('PATH=');
      expect(hookEnv).not.toContain(PASSWORD_ENV);
      for (const form of encodedForms(password)) expect(hookEnv).not.toContain(form);
    }
    const json = await h1.run(['fleet', 'status', '--json']);
    outputs.push(json.stdout, json.stderr);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ secrets: { [SHARED_ID]: { current: 2, pending: null } } });
    // Stopped, so that nothing writes to etcd below but the commands under test.
    await Promise.all([h1.sync!.stop(), h2.sync!.stop()]);
    outputs.push(h1.sync!.output(), h2.sync!.output());

    // What etcd holds (read as root), to prove the failures below change none of it.
    const dump = (await authCluster.etcdctl(['get', '--prefix', prefix])).stdout;
    expect(dump).toContain(`${prefix}/hosts/api-2`);

    // A wrong password: one line, exit 3, nothing changed on either host or in etcd.
    const wrong = `${password.slice(0, -2)}xy`;
    const before = snapshot(fleet);
    for (const args of [['rotate', SHARED_ID, '--yes'], ['sync'], ['fleet', 'status', '--json']]) {
      const result = await h2.run(args, { env: { [PASSWORD_ENV]: wrong } });
      outputs.push(result.stdout, result.stderr);
      expect(result.code, `${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(3);
      const text = args.includes('--json') ? result.stdout + result.stderr : result.stderr;
      expect(text).toContain('etcd-unreachable');
      // etcd answered: the message says it refused, and why, rather than "did not answer".
      expect(text).toMatch(/refused the request \([^)]*authentication failed/);
      if (!args.includes('--json')) expectOneLineError(result, 'etcd-unreachable');
      expect(snapshot(fleet)).toEqual(before);
      for (const form of encodedForms(wrong)) expect(result.stdout + result.stderr).not.toContain(form);
    }
    expect((await authCluster.etcdctl(['get', '--prefix', prefix])).stdout).toBe(dump);

    // password_env naming a variable that is not set.
    const unset = await h2.run(['sync'], { env: { [PASSWORD_ENV]: undefined } });
    const line = expectOneLineError(unset, 'etcd-credentials');
    expect(line).toContain(PASSWORD_ENV);
    expect(snapshot(fleet)).toEqual(before);

    for (const text of outputs) for (const form of encodedForms(password)) expect(text).not.toContain(form);
  });
});
