import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

/**
 * A local DingTalk-compatible robot server: real HTTP on 127.0.0.1 with a free port, checking
 * what DingTalk checks (open.dingtalk.com, custom robot security settings):
 *   - the access_token must belong to a robot added with addRobot() (else errcode 300001);
 *   - signed robots: `timestamp` (ms) within one hour of the server's clock and `sign` equal to
 *     Base64(HMAC-SHA256(secret, timestamp + "\n" + secret)) after ONE URL-decoding (else 310000);
 *   - keyword robots: the message text holds at least one keyword (else 310000);
 *   - errors come back as HTTP 200 with errcode != 0, as DingTalk does.
 * answerNext() scripts the next answers (an error code, a slow answer, HTTP 500, garbage, no
 * answer at all), for tests. `secrets demo` runs it so the whole cycle works without DingTalk;
 * the test suite reaches it through test/helpers/dingtalk-server.ts. Whoever starts it closes it.
 */

export interface RobotOptions {
  /** The signing secret; null for a keyword-only robot; default: a fresh fake SEC… secret. */
  secret?: string | null;
  keywords?: string[];
}

export interface FakeRobot {
  /** Webhook URL pointing at this server (passes the `format` check's local-test pattern). */
  url: string;
  accessToken: string;
  /** undefined for keyword-only robots. */
  secret: string | undefined;
  keywords: string[];
}

export type ScriptedAnswer =
  /** Answer HTTP 200 with this errcode (130101 rate limit, 300001 unknown token, …). */
  | { errcode: number; errmsg?: string }
  /** Answer normally, after a delay. */
  | { delayMs: number }
  /** A raw HTTP answer (500, HTML, …). */
  | { status: number; body: string }
  /** Never answer (the client's timeout must fire). */
  | 'hang';

export interface ReceivedMessage {
  accessToken: string;
  timestamp: string | null;
  sign: string | null;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  /** Text of the message (text.content, or markdown title + text). */
  text: string;
  /** What the server answered. */
  errcode: number | undefined;
  status: number;
}

export interface LocalDingtalkServer {
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  addRobot(options?: RobotOptions): FakeRobot;
  /** Queues answers, used one per request before any check. */
  answerNext(...answers: ScriptedAnswer[]): void;
  /** Every request, in order. */
  received: ReceivedMessage[];
  /** Requests answered errcode 0. */
  accepted(): ReceivedMessage[];
  close(): Promise<void>;
}

const ONE_HOUR_MS = 60 * 60 * 1000;

/** A robot's credentials, made at run time: 64 hex for the token, SEC + 64 hex for the secret (DingTalk's shapes). */
function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length);
}

export function newRobotSecret(): string {
  return ['S', 'E', 'C'].join('') + randomHex(64);
}

function expectedSign(secret: string, timestamp: string): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function messageText(body: unknown): string {
  if (!body || typeof body !== 'object') return '';
  const message = body as { text?: { content?: unknown }; markdown?: { title?: unknown; text?: unknown } };
  const parts = [message.text?.content, message.markdown?.title, message.markdown?.text];
  return parts.filter((part): part is string => typeof part === 'string').join('\n');
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startLocalDingtalkServer(
  options: {
    now?: () => number;
    /** 0 (the default): a free port. */
    port?: number;
    /** Called once per request, after it was answered (`secrets dingtalk-server` prints each). */
    onMessage?: (message: ReceivedMessage) => void;
  } = {},
): Promise<LocalDingtalkServer> {
  const now = options.now ?? Date.now;
  const robots = new Map<string, FakeRobot>();
  const script: ScriptedAnswer[] = [];
  const received: ReceivedMessage[] = [];
  const hanging = new Set<ServerResponse>();

  const answer = (response: ServerResponse, record: ReceivedMessage, errcode: number, errmsg: string) => {
    record.errcode = errcode;
    record.status = 200;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ errcode, errmsg }));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const raw = await readBody(request);
    let body: unknown = raw;
    try {
      body = JSON.parse(raw);
    } catch {
      // kept as text
    }
    const record: ReceivedMessage = {
      accessToken: url.searchParams.get('access_token') ?? '',
      timestamp: url.searchParams.get('timestamp'),
      sign: url.searchParams.get('sign'),
      body,
      text: messageText(body),
      errcode: undefined,
      status: 0,
    };
    received.push(record);

    const scripted = script.shift();
    if (scripted === 'hang') {
      hanging.add(response);
      return;
    }
    if (scripted && 'delayMs' in scripted) await new Promise((resolve) => setTimeout(resolve, scripted.delayMs));
    if (scripted && 'status' in scripted) {
      record.status = scripted.status;
      response.writeHead(scripted.status, { 'content-type': 'text/html' }).end(scripted.body);
      return;
    }
    if (scripted && 'errcode' in scripted)
      return answer(response, record, scripted.errcode, scripted.errmsg ?? `scripted error ${scripted.errcode}`);

    if (request.method !== 'POST' || url.pathname !== '/robot/send') {
      record.status = 404;
      response.writeHead(404).end('not found');
      return;
    }
    const robot = robots.get(record.accessToken);
    if (!robot) return answer(response, record, 300001, 'token is not exist');
    if (typeof body !== 'object' || body === null || typeof (body as { msgtype?: unknown }).msgtype !== 'string') {
      return answer(response, record, 40035, 'missing param json or msgtype');
    }
    if (robot.secret !== undefined) {
      const timestamp = record.timestamp;
      if (!timestamp || !/^\d+$/.test(timestamp) || Math.abs(now() - Number(timestamp)) > ONE_HOUR_MS) {
        return answer(response, record, 310000, 'invalid timestamp');
      }
      if (!record.sign || !sameText(record.sign, expectedSign(robot.secret, timestamp))) {
        return answer(response, record, 310000, 'sign not match');
      }
    }
    if (robot.keywords.length > 0 && !robot.keywords.some((keyword) => record.text.includes(keyword))) {
      return answer(response, record, 310000, 'keywords not in content');
    }
    return answer(response, record, 0, 'ok');
  };

  const server: Server = createServer((request, response) => {
    handle(request, response)
      .catch(() => response.writeHead(500).end())
      .finally(() => {
        const last = received[received.length - 1];
        if (last && options.onMessage) options.onMessage(last);
      });
  });
  // 127.0.0.1 only: a stand-in for DingTalk has no business on any other interface.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const api: LocalDingtalkServer = {
    baseUrl,
    addRobot(robotOptions = {}) {
      const accessToken = randomHex(64);
      const secret = robotOptions.secret === null ? undefined : (robotOptions.secret ?? newRobotSecret());
      const robot: FakeRobot = {
        url: `${baseUrl}/robot/send?access_token=${accessToken}`,
        accessToken,
        secret,
        keywords: robotOptions.keywords ?? [],
      };
      robots.set(accessToken, robot);
      return robot;
    },
    answerNext(...answers) {
      script.push(...answers);
    },
    received,
    accepted: () => received.filter((message) => message.errcode === 0),
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}
