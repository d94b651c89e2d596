// Fleet mode (issue 17) when things break: etcd members die, the rotator dies, etcd is not there,
// the fleet section is wrong. A real 3-member etcd cluster; bin/secrets in real host folders.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeWithEtcd, startEtcdCluster, type EtcdCluster } from '../helpers/etcd.js';
import { LOCAL_KEY, makeFleet, SHARED_ID, SHARED_KEY, waitFor, type Fleet, type FleetHost } from '../helpers/fleet.js';
import { freePort } from '../helpers/servers.js';
import { makeDeployment } from '../helpers/deployment.js';
import { runSecrets } from '../helpers/cli.js';
import { stringify } from 'yaml';

async function pendingWritten(fleet: Fleet): Promise<boolean> {
  const state = await fleet.get(`secrets/${SHARED_ID}`).catch(() => undefined);
  if (!state) return false;
  const parsed = JSON.parse(state) as { pending?: unknown };
  return parsed.pending !== undefined && parsed.pending !== null;
}

/** Every host holds the same new shared value (not the initial one), each hook ran once, version 2 current. */
async function expectOneNewValueEverywhere(fleet: Fleet): Promise<void> {
  const value = fleet.hosts[0]!.value()!;
  expect(value).not.toBe(fleet.initialShared);
  for (const host of fleet.hosts) {
    expect(host.value(), host.name).toBe(value);
    expect(host.hookRuns(), host.name).toBe(1);
  }
  const status = await fleet.status();
  expect(status.secrets[SHARED_ID]).toMatchObject({ current: 2, pending: null });
}

describeWithEtcd('fleet mode when things break', () => {
  let cluster: EtcdCluster;
  beforeAll(async () => {
    cluster = await startEtcdCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  // A test that killed members leaves a whole cluster to the next one.
  afterEach(async () => {
    for (let i = 0; i < cluster.members.length; i++) if (!cluster.alive(i)) await cluster.start(i);
  });

  it('one etcd member (the leader) killed during a rotation: the rotation completes on every host', async () => {
    // A slow hook keeps the rotation running long enough to kill a member in the middle of it.
    // Two hosts are enough here (and keep the suite short): the etcd side is what breaks.
    const fleet = makeFleet(cluster, { hosts: 2, hook: 'echo x >> hook.log; sleep 1' });
    await fleet.setUp();
    await fleet.startSyncs();
    const rotating = fleet.hosts[0]!.run(['rotate', SHARED_ID, '--yes']);
    let finished = false;
    void rotating.then(() => (finished = true));
    await waitFor('the pending version in etcd', () => pendingWritten(fleet), 20_000);
    expect(finished).toBe(false);
    await cluster.kill(await cluster.leader(), { waitForLeader: false });

    const rotate = await rotating;
    expect(rotate.code, rotate.stdout + rotate.stderr).toBe(0);
    await expectOneNewValueEverywhere(fleet);
  });

  it('two etcd members killed: rotate exits 3 etcd-unreachable naming the endpoints; no host changed', async () => {
    const fleet = makeFleet(cluster, { hosts: 2 });
    await fleet.setUp();
    await fleet.startSyncs();
    const before = fleet.hosts.map((host) => host.env());
    await cluster.kill(0);
    await cluster.kill(1);

    const rotate = await fleet.hosts[0]!.run(['rotate', SHARED_ID, '--yes']);
    expect(rotate.code, rotate.stdout + rotate.stderr).toBe(3);
    expect(rotate.stderr).toContain('[etcd-unreachable]');
    for (const endpoint of cluster.endpoints) expect(rotate.stderr).toContain(new URL(endpoint).host);
    fleet.hosts.forEach((host, i) => {
      expect(host.env(), host.name).toBe(before[i]);
      expect(host.hookRuns(), host.name).toBe(0);
    });

    // Quorum back: nothing pending, every host as it was; the watchers reconnected by themselves,
    // so the next rotation reaches every host.
    await cluster.start(1);
    await cluster.start(0);
    const status = await fleet.status();
    expect(status.secrets[SHARED_ID]).toMatchObject({ current: 1, pending: null });
    fleet.hosts.forEach((host, i) => expect(host.env(), host.name).toBe(before[i]));
    const next = await fleet.hosts[0]!.run(['rotate', SHARED_ID, '--yes']);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    const value = fleet.hosts[0]!.value()!;
    for (const host of fleet.hosts) {
      expect(host.value(), host.name).toBe(value);
      expect(host.hookRuns(), host.name).toBe(1);
      expect(host.sync!.exited(), host.name).toBe(false);
    }
  });

  it('the rotator SIGKILLed after writing pending: rotate --recover on api-2 finishes it', async () => {
    const fleet = makeFleet(cluster, { hosts: 2 });
    await fleet.setUp();
    const [h1, h2] = fleet.hosts as [FleetHost, FleetHost];
    const killed = await h1.run(['rotate', SHARED_ID, '--yes'], {
      env: { SECRETS_TEST_CRASH_AT: 'fleet-pending-written' },
    });
    expect(killed.code, killed.stdout + killed.stderr).toBeNull();
    expect(await pendingWritten(fleet)).toBe(true);
    // Every host runs its sync service; the dead rotator's lease runs out (lock_ttl 3s).
    await fleet.startSyncs();
    await waitFor('the dead rotator lock to expire', async () => (await fleet.get('lock')) === undefined, 15_000);

    const recover = await h2.run(['rotate', '--recover']);
    expect(recover.code, recover.stdout + recover.stderr).toBe(0);
    await expectOneNewValueEverywhere(fleet);
    expect((await fleet.auditLines()).filter((line) => line.includes('"action":"rotated"'))).toHaveLength(1);
    for (const host of fleet.hosts) {
      const verify = await host.run(['log', '--verify']);
      expect(verify.code, `${host.name}: ${verify.stdout}${verify.stderr}`).toBe(0);
    }
  });

  it('a fleet audit entry changed in etcd: log --verify exits 2', async () => {
    const fleet = makeFleet(cluster, { hosts: 1 });
    await fleet.setUp();
    const host = fleet.hosts[0]!;
    expect((await host.run(['rotate', SHARED_ID, '--yes'])).code).toBe(0);
    const intact = await host.run(['log', '--verify']);
    expect(intact.code, intact.stdout + intact.stderr).toBe(0);
    const keys = await cluster.etcdctl(['get', '--prefix', `${fleet.prefix}/audit/`, '--keys-only']);
    const rotatedKey = (
      await Promise.all(
        keys.stdout
          .split('\n')
          .filter(Boolean)
          .map(async (key) => ({ key, value: (await fleet.get(key.slice(fleet.prefix.length + 1)))! })),
      )
    ).find((entry) => entry.value.includes('"action":"rotated"'))!;
    expect(rotatedKey, keys.stdout).toBeDefined();
    const forged = rotatedKey.value.replace('"action":"rotated"', '"action":"recorded"');
    expect((await cluster.etcdctl(['put', rotatedKey.key, forged])).code).toBe(0);

    const broken = await host.run(['log', '--verify']);
    expect(broken.code, broken.stdout + broken.stderr).toBe(2);
    expect(broken.stdout + broken.stderr).toMatch(/fleet/i);
  });

  it('etcd unreachable (wrong endpoints): exit 3 naming them, nothing changed; check still checks local files', async () => {
    // A member of a fleet whose policy then points at the wrong endpoints (nothing listens there).
    const fleet = makeFleet(cluster, { hosts: 1 });
    await fleet.setUp();
    const host = fleet.hosts[0]!;
    const endpoints = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
    const policy = readFileSync(host.policyPath, 'utf8');
    const wrong = policy.replace(
      /endpoints:\n(?: {6}- .*\n)+/,
      `endpoints:\n${endpoints.map((endpoint) => `      - ${endpoint}\n`).join('')}`,
    );
    expect(wrong).not.toBe(policy);
    writeFileSync(host.policyPath, wrong);
    // A local defect check must still find: a per-host key too short.
    const env = host.env().replace(new RegExp(`${LOCAL_KEY}=\\w+`), `${LOCAL_KEY}=short`);
    const envPath = host.path('.env');
    writeFileSync(envPath, env, { mode: 0o600 });

    for (const args of [['fleet', 'init'], ['rotate', SHARED_ID, '--yes'], ['sync'], ['fleet', 'status']]) {
      const result = await host.run(args);
      expect(result.code, `${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(3);
      expect(result.stderr).toContain('[etcd-unreachable]');
      for (const endpoint of endpoints) expect(result.stderr).toContain(new URL(endpoint).host);
      expect(readFileSync(envPath, 'utf8')).toBe(env);
    }
    expect(host.hookRuns()).toBe(0);

    const check = await host.run(['check', '--json']);
    expect(check.code, check.stderr).toBe(2);
    const report = JSON.parse(check.stdout) as {
      findings: Array<{ check: string; severity: string; secret?: string; message: string }>;
    };
    expect(report.findings).toContainEqual(
      expect.objectContaining({ check: 'format', severity: 'critical', secret: 'session' }),
    );
    const etcd = report.findings.filter((finding) => /etcd/i.test(finding.message));
    expect(etcd.length, JSON.stringify(report.findings)).toBeGreaterThan(0);
    expect(etcd.every((finding) => finding.severity === 'warning')).toBe(true);
    expect(etcd.some((finding) => finding.message.includes(new URL(endpoints[0]!).host))).toBe(true);
  });

  it.each([
    ['an endpoint that is not a URL', { endpoints: ['not a url'] }, 'not a url'],
    ['a host name with a space', { host: 'api 1' }, 'api 1'],
  ])('a malformed fleet section (%s): one line with file:line, exit 3, nothing written', async (_, bad, needle) => {
    const fleetSection = {
      etcd: { endpoints: 'endpoints' in bad ? bad.endpoints : cluster.endpoints },
      prefix: '/secrets/malformed',
      host: 'host' in bad ? bad.host : 'api-1',
    };
    const policy = stringify({
      version: 1,
      deployment: 'test-deploy',
      root: '.',
      env_file: '.env',
      fleet: fleetSection,
      secrets: { [SHARED_ID]: { kind: 'random', env_key: SHARED_KEY, shared: true, rotate_every: '90d' } },
    });
    const line = policy.split('\n').findIndex((text) => text.includes(needle)) + 1;
    expect(line).toBeGreaterThan(0);
    const deployment = makeDeployment({ files: { '.env': `${SHARED_KEY}=x\n` }, policy });
    for (const args of [['check'], ['fleet', 'status']]) {
      const result = await runSecrets(args, { cwd: deployment.root });
      expect(result.code, result.stderr).toBe(3);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(new RegExp(`^secrets: \\[policy-invalid\\] secrets\\.yaml:${line}:\\d+: fleet\\.`));
    }
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(`${SHARED_KEY}=x\n`);
  });
});
