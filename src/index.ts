/** The library API, for anyone who wants to script `secrets`. */
export { runCheck, type CheckInput, type CheckOutcome } from './commands/check.js';
export { runLog } from './commands/log.js';
export { runRecord } from './commands/record.js';
export {
  createBackup,
  listBackups,
  pruneBackups,
  adoptPlaintext,
  type BackupInput,
  type BackupResult,
} from './commands/backup.js';
export { restoreBackup, type RestoreInput, type RestoreOutcome } from './commands/restore.js';
export { runInit, type InitInput, type InitOutcome } from './commands/init.js';
export { classifyEnv, type SecretProposal } from './core/env-classifier.js';
export type { Deps } from './commands/deps.js';
export { parsePolicy, type Policy } from './core/policy.js';
export { policySchema } from './core/policy-schema.js';
export { SecretsError, ExitCode } from './core/errors.js';
export { Secret, maskValue } from './core/secret.js';
export { parseDotenv } from './core/dotenv.js';
export { parseHtpasswd, setHtpasswdLine, hashScheme } from './core/htpasswd.js';
export { generatePassword, passwordProblems, PASSWORD_ALPHABET } from './core/password.js';
export { bcryptHash, bcryptMatches } from './core/bcrypt.js';
export { verifyAuditChain } from './core/audit.js';
export { runRotate, type RotateInput, type RotateOutcome } from './commands/rotate.js';
export type {
  KindHandler,
  PendingRotation,
  RotationContext,
  FileChange,
  RotationOutline,
} from './commands/rotation/kind-handler.js';
export { runNotifyTest, notifyCheckOutcome } from './commands/notify.js';
export { setDotenvValues } from './core/dotenv.js';
export { dingtalkSign, signedDingtalkUrl } from './core/dingtalk.js';
