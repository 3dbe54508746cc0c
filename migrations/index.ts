// Every migration, in order. The migrator reads this list; a test checks no file is missing from it.
import type { Migration } from 'kysely';
import * as m0001Foundation from './0001_foundation';
import * as m0002Accounts from './0002_accounts';
import * as m0003Uploads from './0003_uploads';
import * as m0004Spaces from './0004_spaces';
import * as m0005PartDigests from './0005_part_digests';
import * as m0006SpaceHistories from './0006_space_histories';
import * as m0007KeyDirectory from './0007_key_directory';
import * as m0008SecondFactors from './0008_second_factors';
import * as m0009EscrowLifecycle from './0009_escrow_lifecycle';
import * as m0010AuditWorkspace from './0010_audit_workspace';

export const migrations: Readonly<Record<string, Migration>> = {
  '0001_foundation': m0001Foundation,
  '0002_accounts': m0002Accounts,
  '0003_uploads': m0003Uploads,
  '0004_spaces': m0004Spaces,
  '0005_part_digests': m0005PartDigests,
  '0006_space_histories': m0006SpaceHistories,
  '0007_key_directory': m0007KeyDirectory,
  '0008_second_factors': m0008SecondFactors,
  '0009_escrow_lifecycle': m0009EscrowLifecycle,
  '0010_audit_workspace': m0010AuditWorkspace,
};
