/** The library API, for anyone who wants to script `secrets`. */
export { runCheck, type CheckInput, type CheckOutcome } from './commands/check.js';
export { runLog } from './commands/log.js';
export { runRecord } from './commands/record.js';
export { runInit, type InitInput, type InitOutcome } from './commands/init.js';
export { classifyEnv, type SecretProposal } from './core/env-classifier.js';
export type { Deps } from './commands/deps.js';
export { parsePolicy, type Policy } from './core/policy.js';
export { policySchema } from './core/policy-schema.js';
export { SecretsError, ExitCode } from './core/errors.js';
export { Secret, maskValue } from './core/secret.js';
export { parseDotenv } from './core/dotenv.js';
export { parseHtpasswd } from './core/htpasswd.js';
export { verifyAuditChain } from './core/audit.js';
