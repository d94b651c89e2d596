/**
 * The fleet's store on etcd (core/ports.ts: FleetKv), through Microsoft's etcd3 client. Loaded
 * only by the fleet commands and the fleet checks of a policy with a fleet: section, so nothing
 * else pays for gRPC. Every request has a deadline, so a cluster without quorum is an
 * `etcd-unreachable` error naming the endpoints after a few seconds, never a hang.
 */
import { readFile } from 'node:fs/promises';
import type { Etcd3, IOptions, Lease, Watcher } from 'etcd3';
import { SecretsError, isSecretsError } from '../core/errors.js';
import type { FleetConnection, FleetKv, KvCompare, KvEntry, KvLock, KvOperation } from '../core/ports.js';

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

function unreachable(endpoints: string[], error: unknown): SecretsError {
  if (isSecretsError(error)) return error;
  // gRPC's text: "14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED …. Resolution note: "
  const reason = (error instanceof Error ? error.message : String(error))
    .split('\n')[0]!
    .replace(/\s*Resolution note:.*$/, '')
    .replace(/No connection established\. Last error: (Error: )?/, '')
    .replace(/\.$/, '')
    .slice(0, 200);
  // etcd answered and said no (a wrong password, a role without the prefix): "did not answer" would
  // send the operator to the network; the message names what etcd refused instead.
  if (/PERMISSION_DENIED|UNAUTHENTICATED|authentication failed|permission denied|auth token/i.test(reason))
    return new SecretsError('etcd-unreachable', `etcd at ${endpoints.join(', ')} refused the request (${reason})`, {
      hint: "check fleet.etcd.user, the password in the variable password_env names, and that the user's role may read and write the prefix",
      cause: error,
    });
  return new SecretsError('etcd-unreachable', `etcd did not answer at ${endpoints.join(', ')} (${reason})`, {
    hint: 'check the cluster (etcdctl endpoint health) and fleet.etcd.endpoints; per-host secrets keep working',
    cause: error,
  });
}

async function readTls(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new SecretsError(
      'etcd-credentials',
      `fleet.etcd.${what} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      { where: path },
    );
  }
}

let ipServernameWarningDropped = false;

/**
 * grpc-js gives TLS the endpoint's host as the server name, an IP address included, and node then
 * prints a DeprecationWarning (DEP0123) on stderr: noise around a one-line error, about a choice the
 * operator cannot change (https://10.0.0.5:2379 is what the docs ask for). Only that warning is dropped.
 */
function dropIpServernameWarning(): void {
  if (ipServernameWarningDropped) return;
  ipServernameWarningDropped = true;
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    const code = typeof rest[0] === 'object' && rest[0] !== null ? (rest[0] as { code?: unknown }).code : rest[1];
    if (code === 'DEP0123') return;
    emitWarning(warning, ...rest);
  }) as typeof process.emitWarning;
}

/** Opens the client (no request yet: the first call connects). */
export async function openEtcd(connection: FleetConnection): Promise<FleetKv> {
  const { Etcd3 } = await import('etcd3');
  const { endpoints } = connection;
  const timeout = connection.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const options: IOptions = {
    hosts: endpoints,
    dialTimeout: Math.min(timeout, 3_000),
    // Streams (watches, lease keep-alives) live long; every other call has a deadline.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
  };
  if (endpoints.some((endpoint) => endpoint.startsWith('https:'))) dropIpServernameWarning();
  // A client certificate without ca: (servers signed by a public CA) is still sent, and a file that
  // cannot be read is still an etcd-credentials error; grpc uses the system's roots for a null CA.
  if (connection.ca || connection.cert || connection.key) {
    options.credentials = {
      rootCertificate: connection.ca ? await readTls(connection.ca, 'ca') : (null as unknown as Buffer),
      ...(connection.cert ? { certChain: await readTls(connection.cert, 'cert') } : {}),
      ...(connection.key ? { privateKey: await readTls(connection.key, 'key') } : {}),
    };
  }
  if (connection.user && connection.password !== undefined)
    options.auth = { username: connection.user, password: connection.password };
  const client: Etcd3 = new Etcd3(options);
  return new EtcdKv(client, endpoints, timeout);
}

/**
 * Cleanup calls (a lease revoked, a watch cancelled) wait for etcd's answer; with etcd gone they
 * would wait for ever. Bounded: a lease not revoked expires on its own, a dead stream is gone.
 */
async function bounded(work: Promise<unknown>, ms = 2_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

function entryOf(kv: { key: Buffer; value: Buffer; mod_revision: string }): KvEntry {
  return { key: kv.key.toString('utf8'), value: kv.value.toString('utf8'), modRevision: kv.mod_revision };
}

class EtcdKv implements FleetKv {
  private readonly leases = new Set<Lease>();

  constructor(
    private readonly client: Etcd3,
    readonly endpoints: string[],
    private readonly timeoutMs: number,
  ) {}

  private async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw unreachable(this.endpoints, error);
    }
  }

  async get(key: string): Promise<KvEntry | undefined> {
    return this.call(async () => {
      const response = await this.client.get(key).exec();
      const kv = response.kvs[0];
      return kv ? entryOf(kv) : undefined;
    });
  }

  async list(prefix: string, options: { from?: string } = {}): Promise<KvEntry[]> {
    return this.call(async () => {
      const { Range } = await import('etcd3');
      const range = options.from ? new Range(options.from, Range.prefix(prefix).end) : Range.prefix(prefix);
      const response = await this.client.getAll().inRange(range).sort('Key', 'Ascend').exec();
      return response.kvs.map(entryOf);
    });
  }

  private operation(operation: KvOperation, leaseId?: string) {
    if ('put' in operation) {
      const put = this.client.put(operation.put).value(operation.value);
      if (operation.leased) {
        if (!leaseId) throw new Error('a leased put outside tryLock');
        return put.lease(leaseId);
      }
      return put;
    }
    if ('delete' in operation) return this.client.delete().key(operation.delete);
    return this.client.delete().prefix(operation.deletePrefix);
  }

  async txn(compares: KvCompare[], operations: KvOperation[]): Promise<boolean> {
    return this.call(async () => {
      const ops = operations.map((operation) => this.operation(operation));
      if (compares.length === 0) {
        if (operations.length === 0) return true;
        // etcd3's builder needs a comparison: an always-true one on a key the transaction writes
        // anyway, so an etcd user whose role covers the fleet's prefix only may make it.
        const first = operations[0]!;
        const key = 'put' in first ? first.put : 'delete' in first ? first.delete : first.deletePrefix;
        const response = await this.client
          .if(key, 'Version', '>', -1)
          .then(...ops)
          .commit();
        return response.succeeded;
      }
      let builder = this.client.if(compares[0]!.key, 'Mod', '==', Number(compares[0]!.modRevision));
      for (const compare of compares.slice(1))
        builder = builder.and(compare.key, 'Mod', '==', Number(compare.modRevision));
      const response = await builder.then(...ops).commit();
      return response.succeeded;
    });
  }

  async tryLock(key: string, value: string, ttlSeconds: number): Promise<{ lock: KvLock } | { heldBy: string }> {
    return this.call(async () => {
      const lease = this.client.lease(ttlSeconds, { autoKeepAlive: true });
      let lost = false;
      lease.on('lost', () => {
        lost = true;
      });
      const leaseId = await lease.grant();
      const response = await this.client
        .if(key, 'Create', '==', 0)
        .then(this.client.put(key).value(value).lease(leaseId))
        .else(this.client.get(key))
        .commit();
      if (!response.succeeded) {
        await bounded(lease.revoke());
        const holder = response.responses[0]?.response_range?.kvs[0]?.value.toString('utf8') ?? 'another process';
        return { heldBy: holder };
      }
      this.leases.add(lease);
      const lock: KvLock = {
        get lost() {
          return lost;
        },
        release: async () => {
          this.leases.delete(lease);
          // Revoking the lease deletes the key with it; if etcd is gone the lease expires alone.
          await bounded(lease.revoke());
          // Whatever the revoke's fate, no keep-alive goes on after a release.
          lease.release();
        },
      };
      return { lock };
    });
  }

  async watch(
    prefix: string,
    onChange: () => void,
    onState: (state: 'connected' | 'disconnected', detail?: string) => void,
  ): Promise<{ close(): Promise<void> }> {
    // A watch is a stream, without the deadline of a request: with etcd gone, create() would wait
    // for a connection for ever. Bounded like a request.
    const pending = this.client.watch().prefix(prefix).create();
    let timer: NodeJS.Timeout | undefined;
    const watcher: Watcher = await this.call(() =>
      Promise.race([
        pending,
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error('no watch stream within the request deadline')), this.timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer)),
    ).catch((error: unknown) => {
      // If it connects later after all, it is cancelled rather than left to fire.
      void pending.then((late) => bounded(late.cancel())).catch(() => undefined);
      throw error;
    });
    watcher.on('put', () => onChange());
    watcher.on('delete', () => onChange());
    watcher.on('disconnected', (error: Error) => onState('disconnected', error?.message));
    watcher.on('connected', () => {
      onState('connected');
      // Changes made while the stream was down: the caller resyncs on reconnect.
      onChange();
    });
    watcher.on('error', (error: Error) => onState('disconnected', error?.message));
    return { close: () => bounded(watcher.cancel()) };
  }

  async close(): Promise<void> {
    for (const lease of this.leases) {
      await bounded(lease.revoke());
      lease.release();
    }
    this.leases.clear();
    this.client.close();
  }
}
