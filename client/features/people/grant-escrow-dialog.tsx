// Grant escrow access: the Administrator compares the person's key fingerprint out of band, then confirms.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useAccount } from '../../account';
import { Dialog } from '../../components/dialog';
import { ErrorAlert } from '../../components/error-alert';
import { Fingerprint } from '../../components/fingerprint';
import type { Person } from '../../worker';

export interface GrantEscrowDialogProps {
  readonly person: Person;
  readonly guard: <T>(action: () => Promise<T>) => Promise<T>;
  readonly onClose: () => void;
  readonly onGranted: () => void;
}

export function GrantEscrowDialog({ person, guard, onClose, onGranted }: GrantEscrowDialogProps) {
  const { t } = useTranslation();
  const account = useAccount();
  const [compared, setCompared] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const fingerprint = person.keyFingerprint ?? '';
  const who = person.name ?? person.email;

  const grant = async () => {
    setBusy(true);
    setError(null);
    try {
      // The worker refuses if the server now hands out another key than the one shown here.
      await guard(() => account.run((api) => api.grantEscrow(person.id, fingerprint)));
      onGranted();
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  return (
    <Dialog id="grant-escrow" open title={t('grant.title', { who })} onClose={onClose}>
      <p>{t('grant.body', { who })}</p>
      <p className="field-label">{t('grant.fingerprint', { who })}</p>
      <p>
        <Fingerprint hex={fingerprint} />
      </p>
      <p className="card-help">{t('grant.compare', { who })}</p>
      {error !== null && <ErrorAlert error={error} />}
      <div className="checkbox-field">
        <input
          id="grant-compared"
          type="checkbox"
          checked={compared}
          onChange={(event) => setCompared(event.target.checked)}
        />
        <label htmlFor="grant-compared">{t('grant.compared')}</label>
      </div>
      <div className="form-actions">
        <button
          type="button"
          className="button"
          disabled={!compared || busy}
          onClick={() => void grant()}
        >
          {busy ? t('common.saving') : t('grant.confirm')}
        </button>
        <button type="button" className="button button-secondary" onClick={onClose}>
          {t('common.cancel')}
        </button>
      </div>
    </Dialog>
  );
}
