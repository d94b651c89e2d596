import type { BasicAuthProber } from '../core/ports.js';
import { SecretsError } from '../core/errors.js';

/**
 * Basic Auth probes over undici, imported on first use so commands that never probe do not load
 * it. A new Client per probe (and closed after) means no pooled keep-alive connection: after
 * `nginx -s reload` an old worker may still hold one, and it must not answer for the new config.
 */
export const httpProber: BasicAuthProber = {
  async status(url, credentials, options) {
    // Right after `nginx -s reload` a connection the exiting old worker accepted can be closed before
    // it answers ("other side closed"). That is no answer at all, so the GET (idempotent) is sent again
    // on a new connection, a few times; any HTTP status, and any other error, counts at once.
    for (let attempt = 1; ; attempt++) {
      try {
        return await probeOnce(url, credentials, options);
      } catch (error) {
        const socketClosed = (error as { cause?: { code?: string } }).cause?.code === 'UND_ERR_SOCKET';
        if (!socketClosed || attempt >= 3) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  },
};

const probeOnce: BasicAuthProber['status'] = async (url, credentials, { timeoutMs }) => {
  const { Client } = await import('undici');
  const target = new URL(url);
  const client = new Client(target.origin, {
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const headers: Record<string, string> = {};
  if (credentials) {
    headers.authorization = `Basic ${Buffer.from(`${credentials.user}:${credentials.password.reveal()}`, 'utf8').toString('base64')}`;
  }
  try {
    const answer = await client.request({ method: 'GET', path: `${target.pathname}${target.search}`, headers });
    await answer.body.dump();
    return answer.statusCode;
  } catch (error) {
    // The message of a connection error names the host and port only; headers never appear in it.
    const reason = error instanceof Error ? error.message : String(error);
    throw new SecretsError('probe-unreachable', `probe ${target.origin}${target.pathname}: ${reason}`, {
      hint: 'check the probe url in the policy and that nginx is running',
      cause: error,
    });
  } finally {
    await client.close().catch(() => undefined);
  }
};
