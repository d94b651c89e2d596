// Fleet mode (issue 17) through bin/secrets against a real 3-member etcd cluster: joining, one
// rotation reaching every host, what etcd holds. Per-host secrets and removal: fleet-members.test.ts.
import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithEtcd, startEtcdCluster, type EtcdCluster } from '../helpers/etcd.js';
import {
  decryptAsHost,
  encodedForms,
  expectOk,
  FINGERPRINT,
  hostKeyPath,
  LOCAL_KEY,
  makeFleet,
  OPENPGP_MESSAGE,
  sameFingerprint,
  SHARED_ID,
  SHARED_KEY,
  waitFor,
  type Fleet,
  type FleetHost,
} from '../helpers/fleet.js';

/** Every host applied `version` of the shared secret, which is current with nothing pending. */
async function expectAllAt(fleet: Fleet, version: number): Promise<void> {
  let last = '';
  await waitFor(
    `every host at version ${version}`,
    async () => {
      const status = await fleet.status();
      last = JSON.stringify(status);
      return (
        status.secrets[SHARED_ID]?.current === version &&
        status.secrets[SHARED_ID]?.pending === null &&
        status.hosts.length === fleet.hosts.length &&
        status.hosts.every((host) => host.secrets[SHARED_ID]?.applied === version)
      );
    },
    10_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last fleet status: ${last}`);
  });
}

describeWithEtcd('fleet mode through bin/secrets', () => {
  let cluster: EtcdCluster;
  beforeAll(async () => {
    cluster = await startEtcdCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('init, join and admit --fingerprint make a fleet of 3; a joined host syncs to the fleet value once', async () => {
    // Each host starts with its own value: joining brings it to the fleet's.
    const fleet = makeFleet(cluster, { sameSharedValue: false });
    const [h1, h2, h3] = fleet.hosts as [FleetHost, FleetHost, FleetHost];
    const fleetValue = h1.value()!;
    const h3Env = h3.env();

    const early = await h2.run(['fleet', 'join']);
    expect(early.code, early.stdout + early.stderr).toBe(3); // no fleet at the prefix yet
    const init = await h1.run(['fleet', 'init']);
    expect(init.code, init.stderr).toBe(0);
    const own = FINGERPRINT.exec(init.stdout);
    expect(own, init.stdout).not.toBeNull();
    expect(statSync(hostKeyPath(h1)).mode & 0o777).toBe(0o600);
    expect(existsSync(h1.path('.secrets/fleet/host.pub'))).toBe(true);
    const again = await h1.run(['fleet', 'init']);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('[fleet-exists]');

    const join = await h2.run(['fleet', 'join']);
    expect(join.code, join.stderr).toBe(0);
    expect(join.stdout).toMatch(/join request published for api-2; fingerprint (?:[0-9A-F]{4} ){9}[0-9A-F]{4}/i);
    expect(join.stdout).toMatch(/secrets fleet admit api-2/);
    const fingerprint = FINGERPRINT.exec(join.stdout)![1]!;
    expect(statSync(hostKeyPath(h2)).mode & 0o777).toBe(0o600);

    // Without a terminal and without --fingerprint, nobody compared it: refused, the request shown.
    const unchecked = await h1.run(['fleet', 'admit', 'api-2']);
    expect(unchecked.code).toBe(3);
    expect(unchecked.stderr).toContain('[fleet-fingerprint-required]');
    expect((unchecked.stdout + unchecked.stderr).replace(/\s+/g, '').toLowerCase()).toContain(
      fingerprint.replace(/\s+/g, '').toLowerCase(),
    );
    // A fingerprint that is not the request's: refused.
    const wrong = await h1.run(['fleet', 'admit', 'api-2', '--fingerprint', 'ABCD '.repeat(10).trim()]);
    expect(wrong.code).toBe(3);
    expect((await fleet.status()).hosts.map((host) => host.host)).toEqual(['api-1']);
    // The right one, spaces and case ignored.
    const admit = await h1.run([
      'fleet',
      'admit',
      'api-2',
      '--fingerprint',
      fingerprint.replace(/ /g, '').toLowerCase(),
    ]);
    expect(admit.code, admit.stderr).toBe(0);

    const join3 = expectOk(await h3.run(['fleet', 'join']), 'api-3: fleet join');
    const fingerprint3 = FINGERPRINT.exec(join3.stdout)![1]!;
    expectOk(await h1.run(['fleet', 'admit', 'api-3', '--fingerprint', fingerprint3]), 'admit api-3');
    const rejoin = await h2.run(['fleet', 'join']);
    expect(rejoin.code).toBe(3);

    // The joined hosts take the fleet's value (version 1, from api-1's .env), each hook once.
    const sync2 = await h2.run(['sync', '--json']);
    expect(sync2.code, sync2.stderr).toBe(0);
    expect(JSON.parse(sync2.stdout)).toMatchObject({ host: 'api-2', applied: [{ secret: SHARED_ID, version: 1 }] });
    const sync3 = await h3.run(['sync']);
    expect(sync3.code, sync3.stderr).toBe(0);
    expect(sync3.stdout).toMatch(new RegExp(`\\b${SHARED_ID}\\b`));
    for (const host of [h2, h3]) {
      expect(host.value()).toBe(fleetValue);
      expect(host.hookRuns()).toBe(1);
    }
    // Only the shared key changed, the rest of the file as it was.
    expect(h3.env()).toBe(h3Env.replace(/JWT_SECRET=\w+/, `${SHARED_KEY}=${fleetValue}`));
    expect(h1.hookRuns()).toBe(0);
    // A second sync finds every value right: no write, no hook.
    const resync = await h3.run(['sync', '--json']);
    expect(resync.code, resync.stderr).toBe(0);
    expect(JSON.parse(resync.stdout)).toMatchObject({ applied: [], unchanged: [SHARED_ID] });
    expect(h3.hookRuns()).toBe(1);

    const status = await fleet.status(h2);
    expect(status.prefix).toBe(fleet.prefix);
    expect(status.secrets[SHARED_ID]).toMatchObject({ current: 1, pending: null });
    expect(status.hosts.map((host) => host.host)).toEqual(['api-1', 'api-2', 'api-3']);
    expect(sameFingerprint(status.hosts[0]!.fingerprint, own![1]!)).toBe(true);
    expect(sameFingerprint(status.hosts[1]!.fingerprint, fingerprint)).toBe(true);
    expect(sameFingerprint(status.hosts[2]!.fingerprint, fingerprint3)).toBe(true);
    for (const host of status.hosts) expect(host.secrets[SHARED_ID]).toMatchObject({ applied: 1, target: 1, lag: 0 });
    for (const result of [init, join, admit, sync2, sync3]) {
      expect(result.stdout + result.stderr).not.toContain(fleetValue);
    }
  });

  it('a shared key rotated on api-1 lands on all three .env files, each hook once, log --verify everywhere', async () => {
    const fleet = makeFleet(cluster);
    await fleet.setUp();
    const before = fleet.hosts.map((host) => host.env());
    const syncs = await fleet.startSyncs();

    const rotate = await fleet.hosts[0]!.run(['rotate', SHARED_ID, '--yes']);
    expect(rotate.code, rotate.stderr).toBe(0);
    const value = fleet.hosts[0]!.value()!;
    expect(value).toMatch(/^[0-9a-f]{64}$/);
    expect(value).not.toBe(fleet.initialShared);
    // Exit 0 means every member acknowledged: every file is already written, every hook has run.
    fleet.hosts.forEach((host, i) => {
      expect(host.env(), host.name).toBe(before[i]!.replace(fleet.initialShared, value));
      expect(host.hookRuns(), host.name).toBe(1);
      expect(host.localHookRuns(), host.name).toBe(0);
    });
    await expectAllAt(fleet, 2);
    const status = await fleet.status(fleet.hosts[2]);
    for (const host of status.hosts) {
      expect(host.secrets[SHARED_ID]).toMatchObject({ applied: 2, target: 2, lag: 0 });
      expect(host.lastSync).not.toBeNull();
    }

    for (const host of fleet.hosts) {
      const verify = await host.run(['log', '--verify']);
      expect(verify.code, `${host.name}: ${verify.stdout}${verify.stderr}`).toBe(0);
      expect(verify.stdout).toMatch(/fleet audit trail intact: \d+ entries/);
    }
    const rotated = (await fleet.auditLines()).filter((line) => line.includes('"action":"rotated"'));
    expect(rotated).toHaveLength(1);
    // A few seconds later the watchers have not applied anything twice.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const host of fleet.hosts) expect(host.hookRuns(), host.name).toBe(1);
    // The service ends cleanly on SIGTERM (systemd's stop).
    for (const sync of syncs) expect(await sync.stop(), sync.output()).toBe(0);
    for (const text of [rotate.stdout, rotate.stderr, ...syncs.map((sync) => sync.output())]) {
      for (const form of [...encodedForms(value), ...encodedForms(fleet.initialShared)])
        expect(text).not.toContain(form);
    }
  });

  it('etcd never holds a value in clear: raw etcdctl reads show neither it nor its hex/base64 forms', async () => {
    const fleet = makeFleet(cluster);
    await fleet.setUp();
    await fleet.startSyncs();
    expectOk(await fleet.hosts[0]!.run(['rotate', SHARED_ID, '--yes']), 'rotate');
    const value = fleet.hosts[0]!.value()!;
    const perHost = fleet.hosts.map((host) => host.value(LOCAL_KEY)!);

    const dump = await fleet.rawDump();
    const json = await cluster.etcdctl(['get', '--prefix', fleet.prefix, '-w', 'json']);
    const hex = await cluster.etcdctl(['get', '--prefix', fleet.prefix, '--hex']);
    expect(dump).toMatch(new RegExp(`${fleet.prefix}/values/${SHARED_ID}/0*2\\n`));
    for (const text of [dump, json.stdout, hex.stdout]) {
      for (const secret of [fleet.initialShared, value, ...perHost]) {
        for (const form of encodedForms(secret)) expect(text).not.toContain(form);
      }
    }
    // What is there is an OpenPGP message a member's key opens (and so the test above looked at the real thing).
    const stored = (await fleet.storedValue(SHARED_ID, 2))!;
    expect(stored).toMatch(OPENPGP_MESSAGE);
    expect(await decryptAsHost(fleet.hosts[1]!, stored)).toContain(value);
  });
});
