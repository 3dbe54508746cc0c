// Shows any failure as a translated message; a key-pin mismatch becomes the prominent security warning.
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { isApiError, isApiErrorCode } from '../api';
import { Alert } from './alert';

/**
 * The sentence for a stable error code (as transfers report it). Every code of the contract and of the
 * client has its own message (client/i18n/en.ts types `errors.*` by the codes); anything else reads "errors.generic".
 */
export function codeText(t: TFunction, code: string): string {
  if (isApiErrorCode(code)) return t(`errors.${code}`);
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
  if (isApiError(error) && error.code === 'escrow_chain_invalid') {
    return (
      <Alert tone="security" title={t('errors.pinMismatchTitle')} id={id}>
        <p>{t('errors.escrow_chain_invalid')}</p>
        <p>{t('errors.pinMismatchAction')}</p>
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
