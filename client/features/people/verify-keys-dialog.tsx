// Verify keys: staff compare a person's two key fingerprints with them by phone or in person, then certify them.
import { useTranslation } from 'react-i18next';
import { useAccount } from '../../account';
import { Alert } from '../../components/alert';
import { Dialog } from '../../components/dialog';
import { Fingerprint } from '../../components/fingerprint';
import type { Person } from '../../worker';
import { ComparedConfirm } from './compared-confirm';

export interface VerifyKeysDialogProps {
  readonly person: Person;
  readonly guard: <T>(action: () => Promise<T>) => Promise<T>;
  readonly onClose: () => void;
  readonly onVerified: () => void;
}

export function VerifyKeysDialog({ person, guard, onClose, onVerified }: VerifyKeysDialogProps) {
  const { t } = useTranslation();
  const account = useAccount();
  const who = person.name ?? person.email;
  // The fingerprints shown here are the ones certified: the worker refuses if the listed keys changed since.
  const shown =
    person.keys?.state === 'unverified' && person.keys.enc && person.keys.sig
      ? { enc: person.keys.enc, sig: person.keys.sig }
      : null;

  return (
    <Dialog id="verify-keys" open title={t('verifyKeys.title', { who })} onClose={onClose}>
      <p>{t('verifyKeys.body', { who })}</p>
      <p className="card-help">{t('verifyKeys.how', { who })}</p>
      {shown ? (
        <dl className="fingerprint-list">
          <dt className="field-label">{t('verifyKeys.encryption', { who })}</dt>
          <dd>
            <Fingerprint hex={shown.enc} />
          </dd>
          <dt className="field-label">{t('verifyKeys.signing', { who })}</dt>
          <dd>
            <Fingerprint hex={shown.sig} />
          </dd>
        </dl>
      ) : (
        <Alert tone="info" live={false}>
          <p>{t('grant.cannotVerifyYet', { who })}</p>
        </Alert>
      )}
      <p className="card-help">{t('verifyKeys.mismatch')}</p>
      <ComparedConfirm
        id="verify-keys"
        label={t('verifyKeys.compared', { who })}
        confirmLabel={t('verifyKeys.confirm')}
        disabled={!shown}
        errorOverrides={{ key_not_verified: t('verifyKeys.changed', { who }) }}
        onConfirm={async () => {
          if (!shown) return;
          await guard(() => account.run((api) => api.confirmKeys(person.id, shown)));
          onVerified();
        }}
        onClose={onClose}
      />
    </Dialog>
  );
}
