// The database schema as Kysely sees it: one interface per table, named after the table.
//
// PostgreSQL (scale-out issue): keep these types dialect-neutral. Spots that will need care:
// `seq` would be BIGINT there and node-postgres returns BIGINT as a string unless a type parser
// maps it; `occurred_at` must stay TEXT (not timestamptz) because the hash covers its exact text.
import type { Generated, Insertable, Kysely, Selectable, Transaction } from 'kysely';

/** Append-only, hash-chained log of security-relevant actions (SECURITY.md 5). */
export interface AuditEventsTable {
  /** 1, 2, 3, ... in insertion order, without gaps. */
  seq: number;
  id: string;
  /** ISO-8601 UTC with milliseconds, server time. */
  occurred_at: string;
  action: string;
  actor_id: string | null;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  /** Canonical JSON text; ids and counts only, never plaintext names or contents. */
  details: string;
  /** `hash` of the row with seq - 1, or 64 zeros for the first row. */
  prev_hash: string;
  /** Hex SHA-256 of shared/audit/canonical.ts's encoding of this row. */
  hash: string;
  /** 1 (before issue 22: role, user agent and result are not hashed, and NULL) or 2. */
  encoding: Generated<number>;
  actor_role: string | null;
  user_agent: string | null;
  result: 'success' | 'failure' | 'denied' | null;
}

/** The log's identity and retention setting (one row). */
export interface AuditLogTable {
  id: number;
  log_id: string;
  /** NULL keeps every event. */
  retention_days: number | null;
}

/** Every perfect subtree of the RFC 9162 tree over the chain (level 0: leaf hashes). Append-only. */
export interface AuditMerkleNodesTable {
  level: number;
  idx: number;
  hash: string;
}

export interface AuditTreeHeadsTable {
  tree_size: number;
  root_hash: string;
  signed_at: string;
  key_id: string;
  /** Ed25519, base64url. */
  signature: string;
}

export interface AuditWitnessSignaturesTable {
  id: string;
  tree_size: number;
  witness_id: string;
  statement_payload: string;
  statement_signature: string;
  created_at: string;
}

export interface AuditCheckpointsTable {
  through_seq: number;
  through_hash: string;
  tree_size: number;
  root_hash: string;
  signed_at: string;
  key_id: string;
  signature: string;
}

export interface OrganisationTable {
  id: number;
  name: string;
  created_at: string;
  /** JSON of OrganisationSettings (shared/api/accounts.ts). */
  settings: string;
  escrow_public_key: string;
  escrow_fingerprint: string;
  escrow_wrapped_private_key: string;
  recovery_wrapped_key: string;
  recovery_salt: string;
  /** JSON of Argon2idParams. */
  recovery_params: string;
  recovery_confirmed_at: string | null;
  opaque_server_public_key: string;
  /** While an escrow rotation runs: the old key pair (migrations/0009). */
  previous_escrow_public_key: string | null;
  previous_escrow_fingerprint: string | null;
  previous_escrow_wrapped_private_key: string | null;
}

export interface OneTimeTokensTable {
  token_hash: string;
  purpose: 'setup' | 'recovery';
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export type RoleColumn = 'admin' | 'team' | 'client' | 'auditor';

export interface UsersTable {
  id: string;
  email: string;
  role: RoleColumn;
  language: 'en' | 'nl';
  created_at: string;
  invited_by: string | null;
  opaque_record: string;
  wrapped_user_key: string;
  key_safe: string;
  public_key: string;
  public_key_fingerprint: string;
  wrapped_private_key: string;
  escrow_user_key: string;
  profile: string;
  signing_public_key: string | null;
  wrapped_signing_key: string | null;
  /** JSON {payload, signature} of the owner's signed escrow-copy statement; null until signed. */
  escrow_copy_statement: string | null;
  /** The invitation binding (invitee's MAC and the invitation's id); null without one. */
  binding_invitation_id: string | null;
  binding_mac: string | null;
  /** The key safe's revision (compare-and-swap). */
  key_safe_revision: Generated<number>;
  failed_logins: Generated<number>;
  locked_until: string | null;
  lock_notified: Generated<number>;
  last_login_at: string | null;
  password_changed_at: string;
  needs_reset: Generated<number>;
  /** The account life-cycle (migrations/0009). */
  status: Generated<UserStatus>;
  status_changed_at: string | null;
  status_changed_by: string | null;
  /** Fingerprint of the escrow key `escrow_user_key` is sealed to. */
  escrow_fingerprint: string | null;
}

export type UserStatus = 'active' | 'deactivated' | 'deleted' | 'purged';

/** The old escrow key's grants while a rotation runs (same shape as escrow_grants). */
export type EscrowPreviousGrantsTable = EscrowGrantsTable;

export interface EscrowRotationsTable {
  id: string;
  from_fingerprint: string;
  to_fingerprint: string;
  statement_payload: string;
  statement_signature: string;
  started_by: string;
  started_at: string;
  finished_at: string | null;
  done: Generated<number>;
  total: number;
}

export interface EscrowRevocationsTable {
  id: string;
  user_id: string;
  revoked_at: string;
  revoked_by: string;
  reason: 'demoted' | 'deactivated' | 'deleted';
}

export type PasswordResetStatus = 'awaiting_approval' | 'sent' | 'used' | 'cancelled' | 'failed';

export interface PasswordResetsTable {
  id: string;
  user_id: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  status: PasswordResetStatus;
  wrapped_user_key: string;
  proof_hash: string;
  link_secret_sealed: string | null;
  statement_payload: string;
  statement_signature: string;
  lift_lockout: number;
  remove_second_factors: number;
  failed_attempts: Generated<number>;
  approved_by: string | null;
  approved_at: string | null;
  sent_at: string | null;
  finished_at: string | null;
  finished_by: string | null;
}

export type EscrowUseKind = 'reset' | 'first-access' | 'rotation';

export interface EscrowUsesTable {
  id: string;
  user_id: string;
  kind: EscrowUseKind;
  actor_id: string;
  occurred_at: string;
  subject_id: string | null;
  statement_payload: string | null;
  statement_signature: string | null;
}

export interface EscrowGrantsTable {
  user_id: string;
  kind: 'sealed' | 'wrapped';
  value: string;
  granted_by: string;
  granted_at: string;
  statement_payload: string;
  statement_signature: string;
}

/** Append-only: certificates staff signed for people's keys (shared/flows/certificates.ts). */
export interface CertificatesTable {
  id: string;
  user_id: string;
  issuer_id: string;
  payload: string;
  signature: string;
  created_at: string;
}

export interface InvitationsTable {
  id: string;
  token_hash: string;
  email: string;
  role: RoleColumn;
  language: 'en' | 'nl';
  invited_by: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  revoked_at: string | null;
}

export interface SessionsTable {
  id: string;
  /** SHA-256 of the cookie token (hex); the token itself is never stored. */
  token_hash: string;
  user_id: string;
  created_at: string;
  last_seen_at: string;
  authenticated_at: string;
  expires_at: string;
  ip: string | null;
  revoked_at: string | null;
}

// --- uploads (migrations/0003_uploads.ts) ---

/** A ciphertext blob in the blob store; the bytes live there, under the same id. */
export interface BlobsTable {
  id: string;
  size: number;
  /** Hex SHA-256 of the ciphertext. */
  sha256: string;
  created_by: string;
  created_at: string;
}

export interface UploadsTable {
  id: string;
  user_id: string;
  status: 'open' | 'completed' | 'aborted';
  /** Declared ciphertext bytes of the whole file. */
  size: number;
  part_size: number;
  part_count: number;
  /** Opaque to the server (shared/api/uploads.ts). */
  purpose: string;
  created_at: string;
  /** The sweeper deletes the upload (and its parts) after this. */
  expires_at: string;
  finished_at: string | null;
  blob_id: string | null;
  /** Hex SHA-256 over the parts' digests in order, set at completion (migrations/0005_part_digests.ts). */
  parts_sha256: Generated<string | null>;
}

export interface UploadPartsTable {
  upload_id: string;
  part_number: number;
  size: number;
  stored_at: string;
  /** Hex SHA-256 of the part, verified against the client's Content-Digest; '' if stored before 0005. */
  sha256: string;
}

export type BlobRow = Selectable<BlobsTable>;
export type UploadRow = Selectable<UploadsTable>;

// --- spaces (migrations/0004_spaces.ts) ---

export interface SpacesTable {
  id: string;
  kind: 'client' | 'team';
  client_id: string | null;
  /** Legacy client spaces only (made before signed histories): the key sealed to the client's public key. */
  sealed_for_client: string | null;
  sealed_for_escrow: string;
  created_by: string;
  created_at: string;
  last_activity_at: string;
  /** Client spaces with a signed history: the key wrapped under the client's user key (migrations/0006). */
  wrapped_for_client: string | null;
  /** 1: made before signed histories and not yet adopted (no entries); 0: entry 0 exists. */
  legacy: number;
  /** Fingerprint of the escrow key `sealed_for_escrow` is sealed to (migrations/0009). */
  escrow_fingerprint: string | null;
}

/** One signed history entry of a space. Append-only (triggers). */
export interface SpaceEntriesTable {
  space_id: string;
  seq: number;
  /** base64url of the exact signed UTF-8 JSON bytes. */
  payload: string;
  /** base64url of the 64-byte ECDSA P-256 signature. */
  signature: string;
  author_id: string;
  /** entryHash(payload bytes), hex (shared/flows/space-history.ts). */
  entry_hash: string;
  /** Server time of storing it. */
  created_at: string;
}

export interface FoldersTable {
  id: string;
  space_id: string;
  parent_id: string | null;
  /** Record envelope (base64url). */
  name: string;
  created_by: string;
  created_at: string;
  deleted_at: string | null;
  deleted_by: string | null;
}

export interface DocumentsTable {
  id: string;
  space_id: string;
  folder_id: string | null;
  request_item_id: string | null;
  created_by: string;
  created_at: string;
  deleted_at: string | null;
  deleted_by: string | null;
  version_count: number;
  current_version_id: string;
}

/** Append-only (triggers). */
export interface DocumentVersionsTable {
  id: string;
  document_id: string;
  number: number;
  blob_id: string;
  size: number;
  wrapped_file_key: string;
  metadata: string;
  uploaded_by: string;
  created_at: string;
}

export interface ThreadsTable {
  id: string;
  space_id: string;
  subject: string;
  created_by: string;
  created_at: string;
  last_message_at: string;
  message_count: number;
}

export interface MessagesTable {
  id: string;
  thread_id: string;
  seq: number;
  author_id: string;
  created_at: string;
  revision_count: number;
}

/** Append-only (triggers). */
export interface MessageRevisionsTable {
  message_id: string;
  revision: number;
  body: string;
  created_at: string;
}

export interface MessageAttachmentsTable {
  message_id: string;
  document_id: string;
}

export interface ThreadReadsTable {
  thread_id: string;
  user_id: string;
  read_seq: number;
}

export interface DocumentRequestsTable {
  id: string;
  space_id: string;
  body: string;
  due_date: string;
  created_by: string;
  created_at: string;
  closed_at: string | null;
  closed_by: string | null;
  reminder_sent_at: string | null;
}

export interface RequestItemsTable {
  id: string;
  request_id: string;
  position: number;
  body: string;
}

export interface NotificationMarksTable {
  user_id: string;
  space_id: string;
  kind: string;
  last_sent_at: string;
}

/** A user's TOTP app, e-mail code or passkey (migration 0008). */
export interface SecondFactorsTable {
  id: string;
  user_id: string;
  kind: 'totp' | 'email' | 'passkey';
  name: string;
  created_at: string;
  last_used_at: string | null;
  /** TOTP: the secret sealed under the server's factor key (server/auth/factor-keys.ts). */
  totp_secret: string | null;
  /** TOTP: the highest time step accepted so far (replay refusal). */
  totp_last_step: number | null;
  /** Passkeys: base64url credential id, COSE public key, counter, JSON transports. */
  credential_id: string | null;
  public_key: string | null;
  sign_count: number | null;
  transports: string | null;
  /** Passkeys with PRF: the user key wrapped under the PRF-derived key (base64url). */
  prf_wrapped_user_key: string | null;
}

export interface BackupCodesTable {
  user_id: string;
  /** HMAC-SHA-256 (hex) of the normalised code under the server's backup-code key. */
  code_hash: string;
  created_at: string;
  used_at: string | null;
}

export interface TrustedDevicesTable {
  id: string;
  user_id: string;
  /** SHA-256 (hex) of the cookie's 256-bit token. */
  token_hash: string;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  user_agent: string | null;
  ip: string | null;
  revoked_at: string | null;
}

export type SecondFactorRow = Selectable<SecondFactorsTable>;
export type TrustedDeviceRow = Selectable<TrustedDevicesTable>;

export type SpaceRow = Selectable<SpacesTable>;
export type SpaceEntryRow = Selectable<SpaceEntriesTable>;
export type FolderRow = Selectable<FoldersTable>;
export type DocumentRow = Selectable<DocumentsTable>;
export type DocumentVersionRow = Selectable<DocumentVersionsTable>;
export type ThreadRow = Selectable<ThreadsTable>;
export type MessageRow = Selectable<MessagesTable>;
export type DocumentRequestRow = Selectable<DocumentRequestsTable>;
export type RequestItemRow = Selectable<RequestItemsTable>;

export interface Database {
  audit_events: AuditEventsTable;
  audit_log: AuditLogTable;
  audit_merkle_nodes: AuditMerkleNodesTable;
  audit_tree_heads: AuditTreeHeadsTable;
  audit_witness_signatures: AuditWitnessSignaturesTable;
  audit_checkpoints: AuditCheckpointsTable;
  organisation: OrganisationTable;
  one_time_tokens: OneTimeTokensTable;
  users: UsersTable;
  escrow_grants: EscrowGrantsTable;
  certificates: CertificatesTable;
  invitations: InvitationsTable;
  sessions: SessionsTable;
  blobs: BlobsTable;
  uploads: UploadsTable;
  upload_parts: UploadPartsTable;
  spaces: SpacesTable;
  space_entries: SpaceEntriesTable;
  folders: FoldersTable;
  documents: DocumentsTable;
  document_versions: DocumentVersionsTable;
  threads: ThreadsTable;
  messages: MessagesTable;
  message_revisions: MessageRevisionsTable;
  message_attachments: MessageAttachmentsTable;
  thread_reads: ThreadReadsTable;
  document_requests: DocumentRequestsTable;
  request_items: RequestItemsTable;
  notification_marks: NotificationMarksTable;
  second_factors: SecondFactorsTable;
  backup_codes: BackupCodesTable;
  trusted_devices: TrustedDevicesTable;
  escrow_previous_grants: EscrowPreviousGrantsTable;
  escrow_rotations: EscrowRotationsTable;
  password_resets: PasswordResetsTable;
  escrow_uses: EscrowUsesTable;
  escrow_revocations: EscrowRevocationsTable;
}

export type PasswordResetRow = Selectable<PasswordResetsTable>;
export type EscrowRotationRow = Selectable<EscrowRotationsTable>;
export type EscrowUseRow = Selectable<EscrowUsesTable>;

export type UserRow = Selectable<UsersTable>;
export type OrganisationRow = Selectable<OrganisationTable>;
export type SessionRow = Selectable<SessionsTable>;
export type InvitationRow = Selectable<InvitationsTable>;

export type Db = Kysely<Database>;
/** Functions that must run inside the caller's transaction take this instead of Db. */
export type Trx = Transaction<Database>;

export type AuditEventRow = Selectable<AuditEventsTable>;
export type NewAuditEventRow = Insertable<AuditEventsTable>;
