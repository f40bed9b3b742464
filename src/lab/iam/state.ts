import { join } from 'node:path';
import { z } from 'zod';
import type { JsonFile } from '../../store/index.js';
import { jsonFile } from '../../store/index.js';

const accountStateSchema = z.object({
  /** The account as first acted on, e.g. `HARBOURLINE\m.okafor`. */
  user: z.string(),
  disabled: z.boolean(),
  disabledAt: z.string().nullable(),
  disabledReason: z.string().nullable(),
  sessionsRevokedAt: z.string().nullable(),
  /** Every response action on the account, oldest first. */
  history: z.array(
    z.object({
      action: z.enum(['disable', 'enable', 'revoke_sessions']),
      at: z.string(),
      reason: z.string(),
    }),
  ),
});

const iamFileSchema = z.object({ accounts: z.record(z.string(), accountStateSchema) });

export type AccountState = z.infer<typeof accountStateSchema>;
export type IamFile = z.infer<typeof iamFileSchema>;

/** `<home>/lab/iam.json`: disabled accounts and revoked sessions, shared by every process of a home. */
export function iamStateFile(home: string): JsonFile<IamFile> {
  return jsonFile(join(home, 'lab', 'iam.json'), iamFileSchema, () => ({ accounts: {} }));
}

/** The persisted state of an account, or the state of one never acted on. */
export function accountState(file: IamFile, key: string, user: string): AccountState {
  return (
    file.accounts[key] ?? {
      user,
      disabled: false,
      disabledAt: null,
      disabledReason: null,
      sessionsRevokedAt: null,
      history: [],
    }
  );
}
