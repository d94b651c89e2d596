/** The library API, for anyone who wants to script `secrets`. */
export { runCheck, type CheckInput, type CheckOutcome } from './services/check.js';
export { runLog } from './services/log.js';
export { runRecord } from './services/record.js';
export {
  createBackup,
  listBackups,
  pruneBackups,
  adoptPlaintext,
  type BackupInput,
  type BackupResult,
} from './services/backup.js';
export { restoreBackup, type RestoreInput, type RestoreOutcome } from './services/restore.js';
export { runInit, type InitInput, type InitOutcome } from './services/init.js';
export { classifyEnv, type SecretProposal } from './core/env-classifier.js';
export type { Deps } from './services/deps.js';
export type { Policy } from './core/policy.js';
export { parsePolicy, policySchema } from './kinds/index.js';
export { SecretsError, ExitCode } from './core/errors.js';
export { Secret, maskValue } from './core/secret.js';
export { parseDotenv } from './core/dotenv.js';
export { parseHtpasswd, setHtpasswdLine, hashScheme } from './core/htpasswd.js';
export { generatePassword, passwordProblems, PASSWORD_ALPHABET } from './core/password.js';
export { bcryptHash, bcryptMatches } from './core/bcrypt.js';
export { verifyAuditChain } from './core/audit.js';
export { runRotate, type RotateInput, type RotateOutcome } from './services/rotate.js';
export type { KindHandler, PendingRotation, RotationContext, FileChange, RotationOutline } from './kinds/kind.js';
export { runNotifyTest, notifyCheckOutcome } from './services/notify.js';
export { setDotenvValues } from './core/dotenv.js';
export { dingtalkSign, signedDingtalkUrl } from './core/dingtalk.js';
