// Grant escrow access: only to verified keys; the Administrator compares the key fingerprint out of band, then confirms.
import { useTranslation } from 'react-i18next';
import { useAccount } from '../../account';
import { Alert } from '../../components/alert';
import { Dialog } from '../../components/dialog';
import { Fingerprint } from '../../components/fingerprint';
import type { Person } from '../../worker';
import { ComparedConfirm } from './compared-confirm';

export interface GrantEscrowDialogProps {
  readonly person: Person;
  /** The person's invitation binding did not verify: a security warning, like changed keys. */
  readonly bindingFailed: boolean;
  readonly guard: <T>(action: () => Promise<T>) => Promise<T>;
  readonly onClose: () => void;
  readonly onGranted: () => void;
  /** Opens "Verify keys" for this person (offered when their keys are not verified yet). */
  readonly onVerify: () => void;
}

export function GrantEscrowDialog({
  person,
  bindingFailed,
  guard,
  onClose,
  onGranted,
  onVerify,
}: GrantEscrowDialogProps) {
  const { t } = useTranslation();
  const who = person.name ?? person.email;
  const keys = person.keys;
  return (
    <Dialog id="grant-escrow" open title={t('grant.title', { who })} onClose={onClose}>
      <p>{t('grant.body', { who })}</p>
      {keys?.state === 'verified' ? (
        <GrantForm person={person} guard={guard} onClose={onClose} onGranted={onGranted} />
      ) : keys?.state === 'changed' || bindingFailed ? (
        <>
          <Alert tone="security" title={t('grant.changedTitle', { who })}>
            <p>{t('grant.changed', { who })}</p>
          </Alert>
          <div className="form-actions">
            <button type="button" className="button button-secondary" onClick={onClose}>
              {t('common.close')}
            </button>
          </div>
        </>
      ) : (
        <NotVerified person={person} onClose={onClose} onVerify={onVerify} />
      )}
    </Dialog>
  );
}

/** Why the grant must wait, and (when this viewer may) the way on: verify the keys first. */
function NotVerified({
  person,
  onClose,
  onVerify,
}: Pick<GrantEscrowDialogProps, 'person' | 'onClose' | 'onVerify'>) {
  const { t } = useTranslation();
  const who = person.name ?? person.email;
  const listed =
    person.keys?.state === 'unverified' && person.keys.enc !== null && person.keys.sig !== null;
  return (
    <>
      <Alert tone="warning" title={t('grant.notVerifiedTitle', { who })} live={false}>
        <p>{t('grant.notVerified', { who })}</p>
        {!person.mayVerifyKeys && (
          <p>{listed ? t('grant.cannotVerifyYou') : t('grant.cannotVerifyYet', { who })}</p>
        )}
      </Alert>
      <div className="form-actions">
        {person.mayVerifyKeys && (
          <button type="button" className="button" onClick={onVerify}>
            {t('people.verifyKeys')}
          </button>
        )}
        <button type="button" className="button button-secondary" onClick={onClose}>
          {t('common.cancel')}
        </button>
      </div>
    </>
  );
}

function GrantForm({
  person,
  guard,
  onClose,
  onGranted,
}: Omit<GrantEscrowDialogProps, 'onVerify' | 'bindingFailed'>) {
  const { t } = useTranslation();
  const account = useAccount();
  const fingerprint = person.keyFingerprint ?? '';
  const who = person.name ?? person.email;
  const basis = person.keys?.state === 'verified' ? t(`people.keyBasis.${person.keys.basis}`) : '';
  return (
    <>
      <p className="field-label">{t('grant.fingerprint', { who })}</p>
      <p>
        <Fingerprint hex={fingerprint} />
      </p>
      <p className="card-help">{t('grant.verifiedBy', { basis })}</p>
      <p className="card-help">{t('grant.compare', { who })}</p>
      <ComparedConfirm
        id="grant"
        label={t('grant.compared')}
        confirmLabel={t('grant.confirm')}
        errorOverrides={{ key_not_verified: t('grant.notGranted', { who }) }}
        onConfirm={async () => {
          // The worker refuses if the server now hands out another key than the one shown here.
          await guard(() => account.run((api) => api.grantEscrow(person.id, fingerprint)));
          onGranted();
        }}
        onClose={onClose}
      />
    </>
  );
}
