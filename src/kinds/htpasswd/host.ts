import {
  idOfName,
  inodeWarnings,
  isMountPoint,
  nginxWorker,
  readAccessWarnings,
  type NginxWorker,
} from '../../core/htpasswd-permissions.js';
import type { KindDeps } from '../kind.js';

/** Where nginx.conf usually is; SECRETS_NGINX_CONF points elsewhere (another prefix, a test). */
const DEFAULT_NGINX_CONF = '/etc/nginx/nginx.conf';

function readIfPresent(path: string, deps: Pick<KindDeps, 'files'>): Promise<string | undefined> {
  // Unreadable system files (a hardened /proc, no permission) only cost us a warning.
  return deps.files.readTextIfExists(path).catch(() => undefined);
}

/** nginx's worker user/group and their ids on this host, as far as the files tell. */
export async function readNginxWorker(
  deps: Pick<KindDeps, 'files' | 'env'>,
): Promise<{ worker: NginxWorker; uid: number | undefined; gid: number | undefined }> {
  const confPath = deps.env.SECRETS_NGINX_CONF ?? DEFAULT_NGINX_CONF;
  const worker = nginxWorker(await readIfPresent(confPath, deps), confPath);
  return {
    worker,
    uid: idOfName(await readIfPresent('/etc/passwd', deps), worker.user),
    gid: idOfName(await readIfPresent('/etc/group', deps), worker.group),
  };
}

/** Before the swap: would a rename leave someone (a hard link, a bind mount) on the old inode? */
export async function inodeWarningsFor(path: string, deps: Pick<KindDeps, 'files'>): Promise<string[]> {
  const stat = await deps.files.stat(path);
  if (!stat) return [];
  // A file bind-mounted onto another is a mount point of its own; /proc tells us directly.
  const mountinfo = await readIfPresent('/proc/self/mountinfo', deps);
  return inodeWarnings(path, stat, isMountPoint(mountinfo, path));
}

/** After the swap: can nginx's worker read the file as it now is? */
export async function readAccessWarningsFor(path: string, deps: Pick<KindDeps, 'files' | 'env'>): Promise<string[]> {
  const stat = await deps.files.stat(path);
  if (!stat) return [];
  const { worker, uid, gid } = await readNginxWorker(deps);
  return readAccessWarnings({ path, stat, worker, workerUid: uid, workerGid: gid });
}
