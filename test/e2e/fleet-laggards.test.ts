// Fleet mode (issue 17): a host that does not acknowledge (rollback, or --partial-ok and catching
// up later) and two rotators at once. A real 3-member etcd cluster; bin/secrets in real host folders.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithEtcd, startEtcdCluster, type EtcdCluster } from '../helpers/etcd.js';
import { makeFleet, SHARED_ID, waitFor, type Fleet, type FleetHost } from '../helpers/fleet.js';

async function statusSettles(fleet: Fleet, version: number, pending: number | null): Promise<void> {
  let last = '';
  await waitFor(
    `current ${version}, pending ${pending}, every host applied ${version}`,
    async () => {
      const status = await fleet.status();
      last = JSON.stringify(status);
      return (
        status.secrets[SHARED_ID]?.current === version &&
        status.secrets[SHARED_ID]?.pending === pending &&
        status.hosts.every((host) => host.secrets[SHARED_ID]?.applied === version)
      );
    },
    10_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last fleet status: ${last}`);
  });
}

describeWithEtcd('fleet mode with a host that does not answer, and two rotators', () => {
  let cluster: EtcdCluster;
  beforeAll(async () => {
    cluster = await startEtcdCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('a host offline during a rotation: rolled back (exit 3 naming it), every .env back to the old value', async () => {
    const fleet = makeFleet(cluster);
    await fleet.setUp();
    const [h1, h2, h3] = fleet.hosts as [FleetHost, FleetHost, FleetHost];
    const before = fleet.hosts.map((host) => host.env());
    await fleet.startSyncs([h1, h2]); // api-3's sync is not running

    const rotate = await h1.run(['rotate', SHARED_ID, '--yes']);
    expect(rotate.code, rotate.stdout + rotate.stderr).toBe(3);
    expect(rotate.stderr).toContain('[fleet-rolled-back]');
    expect(rotate.stderr).toContain('api-3');
    // The rotator's host went back at once; the others on their next sync (api-2's watcher).
    expect(h1.env()).toBe(before[0]);
    await waitFor('api-2 back on the old value', () => h2.env() === before[1], 10_000);
    expect(h3.env()).toBe(before[2]);
    expect(h3.hookRuns()).toBe(0);
    // api-3 comes back: nothing to do, nothing rewritten.
    const sync = await h3.run(['sync']);
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    expect(h3.env()).toBe(before[2]);
    expect(h3.hookRuns()).toBe(0);
    await statusSettles(fleet, 1, null);
    // The hosts that applied the new value ran their hook again for the old one.
    expect(h1.hookRuns()).toBe(2);
    expect(h2.hookRuns()).toBe(2);
    expect((await fleet.auditLines()).filter((line) => line.includes('"action":"rotated"'))).toEqual([]);
  });

  it('--partial-ok: exit 1 naming the laggard, a critical check finding, and the laggard catches up on its next sync', async () => {
    const fleet = makeFleet(cluster);
    await fleet.setUp();
    const [h1, h2, h3] = fleet.hosts as [FleetHost, FleetHost, FleetHost];
    const h3Before = h3.env();
    await fleet.startSyncs([h1, h2]);

    const rotate = await h1.run(['rotate', SHARED_ID, '--yes', '--partial-ok']);
    expect(rotate.code, rotate.stdout + rotate.stderr).toBe(1);
    expect(rotate.stdout + rotate.stderr).toContain('api-3');
    const value = h1.value()!;
    expect(value).not.toBe(fleet.initialShared);
    expect(h2.value()).toBe(value);
    expect(h3.env()).toBe(h3Before);
    const pending = await fleet.status();
    expect(pending.secrets[SHARED_ID]).toMatchObject({ current: 1, pending: 2 });
    expect(pending.hosts.find((host) => host.host === 'api-3')!.secrets[SHARED_ID]).toMatchObject({
      applied: 1,
      lag: 1,
    });

    // Pending past apply_timeout: check says so, critically, naming the laggard.
    const check = await h1.run(['check', '--json']);
    const findings = (JSON.parse(check.stdout) as { findings: Array<{ severity: string; message: string }> }).findings;
    const stuck = findings.filter((finding) => finding.severity === 'critical' && finding.message.includes('api-3'));
    expect(stuck.length, JSON.stringify(findings)).toBeGreaterThan(0);

    const sync = await h3.run(['sync']);
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    expect(h3.value()).toBe(value);
    expect(h3.env()).toBe(h3Before.replace(fleet.initialShared, value));
    expect(h3.hookRuns()).toBe(1);
    // The last acknowledgement made it current: every host current, nothing pending.
    await statusSettles(fleet, 2, null);
    for (const host of (await fleet.status()).hosts) expect(host.secrets[SHARED_ID]!.lag).toBe(0);
    for (const host of fleet.hosts) expect(host.hookRuns(), host.name).toBe(1);
    const after = await h1.run(['check', '--json']);
    const left = (JSON.parse(after.stdout) as { findings: Array<{ severity: string; message: string }> }).findings;
    expect(left.filter((finding) => finding.message.includes('api-3'))).toEqual([]);
  });

  it('two rotators at once: exactly one wins, the other exits 3 naming it; one rotated entry in the fleet chain', async () => {
    const fleet = makeFleet(cluster);
    await fleet.setUp();
    const [h1, h2] = fleet.hosts as [FleetHost, FleetHost, FleetHost];
    await fleet.startSyncs();

    const results = await Promise.all([h1.run(['rotate', SHARED_ID, '--yes']), h2.run(['rotate', SHARED_ID, '--yes'])]);
    const codes = results.map((result) => result.code);
    expect([...codes].sort(), results.map((result) => result.stdout + result.stderr).join('\n---\n')).toEqual([0, 3]);
    const winner = codes[0] === 0 ? 'api-1' : 'api-2';
    const loser = results[codes[0] === 0 ? 1 : 0]!;
    expect(loser.stderr).toContain('[fleet-busy]');
    expect(loser.stderr).toContain(winner);

    const value = h1.value()!;
    expect(value).not.toBe(fleet.initialShared);
    for (const host of fleet.hosts) expect(host.value(), host.name).toBe(value);
    await statusSettles(fleet, 2, null);
    expect((await fleet.auditLines()).filter((line) => line.includes('"action":"rotated"'))).toHaveLength(1);
    for (const host of fleet.hosts) {
      const verify = await host.run(['log', '--verify']);
      expect(verify.code, `${host.name}: ${verify.stdout}${verify.stderr}`).toBe(0);
      expect(verify.stdout).toMatch(/fleet audit trail intact: \d+ entries/);
    }
  });
});
