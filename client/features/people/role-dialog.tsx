// Change role (issue 21): Administrator ↔ Team Member; this browser signs the certificate for the new role.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useAccount } from '../../account';
import { Alert } from '../../components/alert';
import { Dialog } from '../../components/dialog';
import { ErrorAlert } from '../../components/error-alert';
import type { Person } from '../../worker';

export interface RoleDialogProps {
  /** An Administrator or Team Member (the only roles a role change moves between). */
  readonly person: Person;
  readonly guard: <T>(action: () => Promise<T>) => Promise<T>;
  readonly onClose: () => void;
  readonly onDone: (notice: string) => void;
}

export function RoleDialog({ person, guard, onClose, onDone }: RoleDialogProps) {
  const { t } = useTranslation();
  const account = useAccount();
  const who = person.name ?? person.email;
  const promote = person.role === 'team';
  const role = promote ? 'admin' : 'team';
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      // WARNING: the worker certifies the keys the verified directory holds for this person, with this
      // Administrator's signing key; the server stores the certificate with the new role.
      await guard(() => account.run((api) => api.changeRole(person.id, role)));
      onDone(t('lifecycle.roleChanged', { who, role: t(`roles.${role}`) }));
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  return (
    <Dialog id="change-role" open title={t('lifecycle.roleTitle', { who })} onClose={onClose}>
      <p>{t('lifecycle.roleNow', { who, role: t(`roles.${person.role}`) })}</p>
      <Alert tone={promote ? 'info' : 'warning'} live={false}>
        <p>{promote ? t('lifecycle.promoteBody', { who }) : t('lifecycle.demoteBody', { who })}</p>
        <p>{t('lifecycle.roleCertificate', { who })}</p>
      </Alert>
      <p className="card-help">{t('lifecycle.adminsNotified')}</p>
      {error !== null && (
        <ErrorAlert error={error} overrides={{ key_not_verified: t('lifecycle.roleKeysNotVerified', { who }) }} />
      )}
      <div className="form-actions">
        <button type="button" className={promote ? 'button' : 'button button-danger'} disabled={busy} onClick={() => void confirm()}>
          {busy ? t('lifecycle.working') : promote ? t('lifecycle.promoteConfirm') : t('lifecycle.demoteConfirm')}
        </button>
        <button type="button" className="button button-secondary" onClick={onClose}>
          {t('common.cancel')}
        </button>
      </div>
    </Dialog>
  );
}
