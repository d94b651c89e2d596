import * as z from 'zod/mini';
import { policySchema } from './index.js';

/** The policy's JSON Schema, for editors (policies/schema.json is generated from this). */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(policySchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://secrets.invalid/policy.schema.json', title: 'secrets policy' };
}
