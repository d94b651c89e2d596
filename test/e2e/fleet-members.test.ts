// Fleet mode (issue 17) through bin/secrets against a real 3-member etcd cluster: per-host secrets
// beside shared ones, a member that fails to apply a version, and removing members.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithEtcd, startEtcdCluster, type EtcdCluster } from '../helpers/etcd.js';
import {
  decryptAsHost,
  encodedForms,
  LOCAL_KEY,
  makeFleet,
  OPENPGP_MESSAGE,
  SHARED_ID,
  waitFor,
  type FleetHost,
} from '../helpers/fleet.js';

describeWithEtcd('fleet members and per-host secrets through bin/secrets', () => {
  let cluster: EtcdCluster;
  beforeAll(async () => {
    cluster = await startEtcdCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('per-host secrets keep working with a fleet policy: rotating one touches that host only', async () => {
    const fleet = makeFleet(cluster);
    await fleet.setUp();
    await fleet.startSyncs();
    const [h1, h2, h3] = fleet.hosts as [FleetHost, FleetHost, FleetHost];
    const before = fleet.hosts.map((host) => host.env());
    const oldLocal = h2.value(LOCAL_KEY)!;

    const rotate = await h2.run(['rotate', 'session', '--yes']);
    expect(rotate.code, rotate.stderr).toBe(0);
    const newLocal = h2.value(LOCAL_KEY)!;
    expect(newLocal).toMatch(/^[0-9a-f]{64}$/);
    expect(h2.env()).toBe(before[1]!.replace(oldLocal, newLocal));
    expect(h2.localHookRuns()).toBe(1);
    expect(h2.hookRuns()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(h1.env()).toBe(before[0]);
    expect(h3.env()).toBe(before[2]);
    expect(h1.localHookRuns() + h3.localHookRuns()).toBe(0);

    const status = await fleet.status();
    expect(Object.keys(status.secrets)).toEqual([SHARED_ID]);
    expect(status.secrets[SHARED_ID]).toMatchObject({ current: 1, pending: null });
    expect((await fleet.auditLines()).filter((line) => line.includes('"action":"rotated"'))).toEqual([]);
    const dump = await fleet.rawDump();
    for (const form of [...encodedForms(oldLocal), ...encodedForms(newLocal)]) expect(dump).not.toContain(form);
    const verify = await h2.run(['log', '--verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('fleet remove names what the host could read; it cannot decrypt the next version', async () => {
    const fleet = makeFleet(cluster);
    await fleet.setUp();
    const [h1, h2, h3] = fleet.hosts as [FleetHost, FleetHost, FleetHost];
    await fleet.startSyncs([h1, h2]);
    const h3Env = h3.env();

    const remove = await h1.run(['fleet', 'remove', 'api-3', '--yes']);
    expect(remove.code, remove.stderr).toBe(0);
    expect(remove.stdout).toMatch(new RegExp(`removed api-3; it could read: ${SHARED_ID}\\b.*rotate them`));
    expect((await fleet.status()).hosts.map((host) => host.host)).toEqual(['api-1', 'api-2']);
    // The signed membership chain's last document (what every host trusts) no longer lists it.
    const documents = (
      await cluster.etcdctl(['get', '--prefix', `${fleet.prefix}/membership/`, '--print-value-only'])
    ).stdout
      .split('\n')
      .filter((line) => line.trim() !== '');
    const last = JSON.parse(JSON.parse(documents[documents.length - 1]!).doc) as { members: Array<{ host: string }> };
    expect(last.members.map((member) => member.host)).toEqual(['api-1', 'api-2']);
    // Re-encrypted without it: not even the version it already had opens with its key any more.
    const first = (await fleet.storedValue(SHARED_ID, 1))!;
    expect(first).toMatch(OPENPGP_MESSAGE);
    expect(await decryptAsHost(h1, first)).toContain(fleet.initialShared);
    await expect(decryptAsHost(h3, first)).rejects.toThrow();

    // The next rotation waits for the remaining members only.
    const rotate = await h1.run(['rotate', SHARED_ID, '--yes']);
    expect(rotate.code, rotate.stderr).toBe(0);
    const value = h1.value()!;
    expect(h2.value()).toBe(value);

    const armored = (await fleet.storedValue(SHARED_ID, 2))!;
    expect(armored).toMatch(OPENPGP_MESSAGE);
    expect(await decryptAsHost(h2, armored)).toContain(value);
    await expect(decryptAsHost(h3, armored)).rejects.toThrow();
    const sync = await h3.run(['sync']);
    expect(sync.code).not.toBe(0);
    expect(h3.env()).toBe(h3Env);
    expect(h3.hookRuns()).toBe(0);
    expect(sync.stdout + sync.stderr).not.toContain(value);

    // The JSON form, removing api-2 as well.
    const json = await h1.run(['fleet', 'remove', 'api-2', '--yes', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ removed: 'api-2', couldRead: [SHARED_ID] });
  });

  it('a member whose apply fails (its hook exits 7): the fleet rolls back, exit 3 naming it', async () => {
    const fleet = makeFleet(cluster);
    const [h1, h2, h3] = fleet.hosts as [FleetHost, FleetHost, FleetHost];
    // api-3's own hook fails: its write path puts the old value back and it acknowledges a failure.
    const policy = readFileSync(h3.policyPath, 'utf8');
    expect(policy).toContain('echo x >> hook.log');
    writeFileSync(h3.policyPath, policy.replace('echo x >> hook.log', 'echo x >> hook.log; exit 7'));
    await fleet.setUp();
    const before = fleet.hosts.map((host) => host.env());
    await fleet.startSyncs();

    const rotate = await h1.run(['rotate', SHARED_ID, '--yes']);
    expect(rotate.code, rotate.stdout + rotate.stderr).toBe(3);
    expect(rotate.stderr).toContain('[fleet-rolled-back]');
    expect(rotate.stderr).toContain('api-3');
    expect(h1.env()).toBe(before[0]);
    await waitFor(
      'api-2 and api-3 back on the old value',
      () => h2.env() === before[1] && h3.env() === before[2],
    ).catch((error: Error) => {
      const said = (host: FleetHost, i: number) =>
        `${host.name}: ${host.env() === before[i] ? 'old value' : 'not the old value'}; sync --watch said:\n${host.sync?.output()}`;
      throw new Error(`${error.message}\nrotate said: ${rotate.stderr}\n${said(h2, 1)}\n${said(h3, 2)}`);
    });
    const status = await fleet.status();
    expect(status.secrets[SHARED_ID]).toMatchObject({ current: 1, pending: null });
    expect((await fleet.auditLines()).filter((line) => line.includes('"action":"rotated"'))).toEqual([]);
  });

  it('check warns about a member key that expires within 30 days, and is critical once it has expired', async () => {
    const fleet = makeFleet(cluster, { hosts: 2 });
    await fleet.setUp();
    const openpgp = await import('openpgp');
    const publicKey = await openpgp.readKey({
      armoredKey: readFileSync(fleet.hosts[1]!.path('.secrets/fleet/host.pub'), 'utf8'),
    });
    const expires = await publicKey.getExpirationTime();
    expect(expires, 'a member key has an expiry date').toBeInstanceOf(Date);
    const day = (offset: number) =>
      new Date((expires as Date).getTime() + offset * 86_400_000).toISOString().slice(0, 10);
    const findings = async (asOf: string) => {
      const check = await fleet.hosts[0]!.run(['check', '--json', '--as-of', asOf]);
      return (JSON.parse(check.stdout) as { findings: Array<{ severity: string; message: string }> }).findings.filter(
        (finding) => finding.message.includes('api-2') && /expir/i.test(finding.message),
      );
    };
    expect(await findings(day(-60))).toEqual([]);
    expect((await findings(day(-10))).map((finding) => finding.severity)).toEqual(['warning']);
    expect((await findings(day(2))).map((finding) => finding.severity)).toEqual(['critical']);
  });
});
