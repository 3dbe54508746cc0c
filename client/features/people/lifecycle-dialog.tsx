// Confirming an account life-cycle step (issue 21): deactivate, reactivate, delete or restore, with what it does said first.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { deactivateUser, deleteUser, reactivateUser, restoreUser } from '../../../shared/api';
import { callApi } from '../../api';
import { Alert } from '../../components/alert';
import { Dialog } from '../../components/dialog';
import { ErrorAlert } from '../../components/error-alert';
import { formatDateTime } from '../../i18n/format';
import type { Person } from '../../worker';

export type LifecycleAction = 'deactivate' | 'reactivate' | 'delete' | 'restore';

export interface LifecycleDialogProps {
  readonly action: LifecycleAction;
  readonly person: Person;
  /** Runs the step, asking for the password again when the server wants a recent login. */
  readonly guard: <T>(action: () => Promise<T>) => Promise<T>;
  readonly onClose: () => void;
  /** Done: the sentence to show on the page (the list is stale). */
  readonly onDone: (notice: string) => void;
}

const isStaff = (person: Person) => person.role === 'admin' || person.role === 'team';

export function LifecycleDialog({ action, person, guard, onClose, onDone }: LifecycleDialogProps) {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const who = person.name ?? person.email;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const run = async (): Promise<string> => {
    const params = { params: { id: person.id } };
    switch (action) {
      case 'deactivate':
        await callApi(deactivateUser, params);
        return t('lifecycle.deactivated', { who });
      case 'reactivate':
        await callApi(reactivateUser, params);
        return t('lifecycle.reactivated', { who });
      case 'delete': {
        const { purgeAfter } = await callApi(deleteUser, params);
        return t('lifecycle.deleted', { who, time: formatDateTime(purgeAfter, language) });
      }
      case 'restore':
        await callApi(restoreUser, params);
        return t('lifecycle.restored', { who });
    }
  };

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      onDone(await guard(run));
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  const text = {
    deactivate: {
      title: t('lifecycle.deactivateTitle', { who }),
      body: [t('lifecycle.deactivateBody', { who }), ...(isStaff(person) ? [t('lifecycle.loseEscrow', { who })] : [])],
      confirm: t('lifecycle.deactivateConfirm'),
    },
    reactivate: {
      title: t('lifecycle.reactivateTitle', { who }),
      body: [t('lifecycle.reactivateBody', { who }), ...(isStaff(person) ? [t('lifecycle.reactivateStaff', { who })] : [])],
      confirm: t('lifecycle.reactivateConfirm'),
    },
    delete: {
      title: t('lifecycle.deleteTitle', { who }),
      body: [
        t('lifecycle.deleteBody', { who }),
        person.role === 'client' ? t('lifecycle.deleteClient', { who }) : t('lifecycle.loseEscrow', { who }),
      ],
      confirm: t('lifecycle.deleteConfirm'),
    },
    restore: {
      title: t('lifecycle.restoreTitle', { who }),
      body: [t('lifecycle.restoreBody', { who })],
      confirm: t('lifecycle.restoreConfirm'),
    },
  }[action];
  const destructive = action === 'deactivate' || action === 'delete';

  return (
    <Dialog id="lifecycle" open title={text.title} onClose={onClose}>
      <Alert tone={destructive ? 'warning' : 'info'} live={false}>
        {text.body.map((line) => (
          <p key={line}>{line}</p>
        ))}
      </Alert>
      <p className="card-help">{t('lifecycle.adminsNotified')}</p>
      {error !== null && <ErrorAlert error={error} />}
      <div className="form-actions">
        <button
          type="button"
          className={destructive ? 'button button-danger' : 'button'}
          disabled={busy}
          onClick={() => void confirm()}
        >
          {busy ? t('lifecycle.working') : text.confirm}
        </button>
        <button type="button" className="button button-secondary" onClick={onClose}>
          {t('common.cancel')}
        </button>
      </div>
    </Dialog>
  );
}
