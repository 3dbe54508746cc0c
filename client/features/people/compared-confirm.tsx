// The end of a "compare the fingerprints, then confirm" dialog: the checkbox, the error, confirm and cancel.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '../../components/error-alert';

export interface ComparedConfirmProps {
  /** Prefix of the checkbox's id. */
  readonly id: string;
  /** "I compared … and it matches". */
  readonly label: string;
  readonly confirmLabel: string;
  /** Nothing to compare (the confirm stays off). */
  readonly disabled?: boolean;
  readonly errorOverrides?: Partial<Record<string, string>>;
  /** Runs the confirmed action; a failure is shown here and the dialog stays open. */
  readonly onConfirm: () => Promise<void>;
  readonly onClose: () => void;
}

export function ComparedConfirm({
  id,
  label,
  confirmLabel,
  disabled = false,
  errorOverrides,
  onConfirm,
  onClose,
}: ComparedConfirmProps) {
  const { t } = useTranslation();
  const [compared, setCompared] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  return (
    <>
      {error !== null && <ErrorAlert error={error} overrides={errorOverrides} />}
      <div className="checkbox-field">
        <input
          id={`${id}-compared`}
          type="checkbox"
          checked={compared}
          disabled={disabled}
          onChange={(event) => setCompared(event.target.checked)}
        />
        <label htmlFor={`${id}-compared`}>{label}</label>
      </div>
      <div className="form-actions">
        <button
          type="button"
          className="button"
          disabled={disabled || !compared || busy}
          onClick={() => void confirm()}
        >
          {busy ? t('common.saving') : confirmLabel}
        </button>
        <button type="button" className="button button-secondary" onClick={onClose}>
          {t('common.cancel')}
        </button>
      </div>
    </>
  );
}
