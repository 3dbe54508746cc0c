// Shows any failure as a translated message; a key-pin mismatch becomes the prominent security warning.
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { isApiError } from '../api';
import { Alert } from './alert';

/** Codes with their own translated message under `errors.*`; anything else reads "errors.generic". */
const knownCodes = [
  'network_error',
  'service_unavailable',
  'rate_limited',
  'login_rejected',
  'invalid_credentials',
  'ip_not_allowed',
  'password_rejected',
  'recovery_secret_invalid',
  'decryption_failed',
  'integrity_failed',
  'invalid_link',
  'not_signed_in',
  'vault_locked',
  'crypto_failed',
  'setup_token_invalid',
  'already_set_up',
  'registration_expired',
  'login_expired',
  'reauthentication_required',
  'password_expired',
  'invitation_invalid',
  'invitation_expired',
  'invitation_used',
  'email_domain_not_allowed',
  'recovery_token_invalid',
  'escrow_holder_not_staff',
  'allowlist_excludes_you',
  'conflict',
  'forbidden',
  'not_found',
  'validation_failed',
  'csrf_rejected',
  'unauthenticated',
  'aborted',
  'cancelled',
  'file_too_large',
  'file_damaged',
  'download_unsupported',
  'storage_full',
  'space_quota_exceeded',
  'upload_quota_exceeded',
  'upload_expired',
  'upload_digest_mismatch',
  'part_digest_mismatch',
  'space_not_found',
  'folder_not_found',
  'folder_deleted',
  'folder_not_empty',
  'document_not_found',
  'document_deleted',
  'version_not_found',
  'thread_not_found',
  'message_not_editable',
  'message_revision_conflict',
  'attachment_invalid',
  'request_not_found',
  'request_item_not_found',
  'request_closed',
  'due_date_invalid',
  'key_not_verified',
  'certificate_invalid',
  'key_safe_rollback',
  'history_conflict',
  'entry_invalid',
  'space_adopted',
  'signing_key_exists',
  'key_safe_conflict',
  'space_untrusted',
  'item_unsigned',
] as const;
type KnownCode = (typeof knownCodes)[number];

function isKnown(code: string): code is KnownCode {
  return (knownCodes as readonly string[]).includes(code);
}

/** The sentence for a stable error code (as transfers report it); unknown codes read "errors.generic". */
export function codeText(t: TFunction, code: string): string {
  if (isKnown(code)) return t(`errors.${code}`);
  return t('errors.generic', { code });
}

/** One sentence for the user; `overrides` replace the text of a code in a specific context. */
export function errorText(
  t: TFunction,
  error: unknown,
  overrides: Partial<Record<string, string>> = {},
): string {
  if (!isApiError(error)) return t('errors.generic', { code: 'unexpected' });
  const override = overrides[error.code];
  if (override) return override;
  return codeText(t, error.code);
}

export interface ErrorAlertProps {
  readonly error: unknown;
  readonly overrides?: Partial<Record<string, string>>;
  readonly id?: string;
}

export function ErrorAlert({ error, overrides, id }: ErrorAlertProps) {
  const { t } = useTranslation();
  if (isApiError(error) && error.code === 'pin_mismatch') {
    return (
      <Alert tone="security" title={t('errors.pinMismatchTitle')} id={id}>
        <p>{t('errors.pin_mismatch')}</p>
        <p>{t('errors.pinMismatchAction')}</p>
      </Alert>
    );
  }
  if (isApiError(error) && error.code === 'key_safe_rollback') {
    return (
      <Alert tone="security" title={t('errors.pinMismatchTitle')} id={id}>
        <p>{t('errors.key_safe_rollback')}</p>
      </Alert>
    );
  }
  const requestId = isApiError(error) ? error.requestId : undefined;
  return (
    <Alert tone="error" id={id}>
      <p>{errorText(t, error, overrides)}</p>
      {requestId && <p className="alert-detail">{t('errors.requestId', { id: requestId })}</p>}
    </Alert>
  );
}
