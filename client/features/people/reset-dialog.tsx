// "Reset password" through escrow (issue 21, SECURITY.md 5.8): a staff member above the person in the role hierarchy
// opens their user key through escrow in this browser and starts a one-time reset; the person gets a link by e-mail,
// the staff member a recovery code to pass on by phone or in person.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Role } from '../../../shared/api';
import { useAccount } from '../../account';
import { isApiError } from '../../api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { Dialog } from '../../components/dialog';
import { ErrorAlert } from '../../components/error-alert';
import { useReauthenticated } from '../../components/reauth-dialog';
import { formatDateTime } from '../../i18n/format';
import type { Person, StartedReset } from '../../worker';

/**
 * Whether the viewer may start a reset for this person (the hierarchy of SECURITY.md 5.8, which the
 * server enforces with `reset_not_allowed`): Administrators reset everyone but themselves; Team
 * Members reset clients. Holding the escrow key is checked by the worker.
 */
export function mayResetPassword(viewer: { id: string; role: Role }, person: { id: string; role: Role }): boolean {
  if (viewer.id === person.id) return false;
  if (viewer.role === 'admin') return true;
  return viewer.role === 'team' && person.role === 'client';
}

export interface ResetDialogProps {
  /** The person whose password is reset (a row of the People list). */
  readonly person: Pick<Person, 'id' | 'email' | 'name' | 'lockedUntil' | 'secondFactors'>;
  /**
   * Runs the reset, asking for the password again when the server wants a recent login. Optional:
   * without it the dialog brings its own reauth dialog.
   */
  readonly guard?: <T>(action: () => Promise<T>) => Promise<T>;
  readonly onClose: () => void;
  /** A reset was started: the People list (its pending-reset column) is stale. */
  readonly onStarted?: (started: StartedReset) => void;
}

/**
 * WARNING: the recovery code is on this page only while the dialog shows it; it was never sent to the
 * server (only a hash of a proof derived from it and the link secret is). It must not reach the
 * person through the same mailbox as the link, or a stolen mailbox alone would be enough.
 */
export function ResetDialog({ person, guard: outerGuard, onClose, onStarted }: ResetDialogProps) {
  const { t, i18n } = useTranslation();
  const account = useAccount();
  const own = useReauthenticated();
  const guard = outerGuard ?? own.guard;
  const language = i18n.resolvedLanguage ?? 'en';
  const who = person.name ?? person.email;
  const locked = person.lockedUntil !== null && new Date(person.lockedUntil) > new Date();
  const [liftLockout, setLiftLockout] = useState(locked);
  const [removeSecondFactors, setRemoveSecondFactors] = useState(false);
  const [working, setWorking] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [started, setStarted] = useState<StartedReset | null>(null);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const codeHeading = useRef<HTMLHeadingElement>(null);

  // Keyboard and screen-reader users land on the code as soon as it is there.
  useEffect(() => {
    if (started) codeHeading.current?.focus();
  }, [started]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setWorking(true);
    try {
      const result = await guard(() =>
        account.run((api) => api.startReset(person.id, { liftLockout, removeSecondFactors })),
      );
      setStarted(result);
      onStarted?.(result);
    } catch (failure) {
      // The reauth dialog was cancelled: nothing happened, the form stays as it was.
      if (!(isApiError(failure) && failure.code === 'reauthentication_required')) setError(failure);
    } finally {
      setWorking(false);
    }
  };

  const copy = async (code: string) => {
    try {
      await navigator.clipboard.writeText(code);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };

  const close = () => {
    // Forget the code as soon as the dialog closes.
    setStarted(null);
    onClose();
  };

  let body;
  if (started) {
    const groups = started.code.split('-');
    const awaiting = started.reset.status === 'awaiting_approval';
    body = (
      <>
        <Alert tone="success" live={false}>
          <p>
            {awaiting
              ? t('reset.dialog.awaitingApproval', { who })
              : t('reset.dialog.sent', { who, email: person.email })}
          </p>
          <p>
            {t('reset.dialog.expires', {
              time: formatDateTime(started.reset.expiresAt, language),
            })}
          </p>
        </Alert>
        <h3 id="reset-code-title" ref={codeHeading} tabIndex={-1}>
          {t('reset.dialog.codeTitle')}
        </h3>
        <p
          id="reset-code"
          className="recovery-secret reset-code"
          aria-labelledby="reset-code-title"
          aria-describedby="reset-code-help"
        >
          {groups.map((group, index) => (
            <span key={index} className="recovery-group">
              {group}
              {index < groups.length - 1 && <span className="visually-hidden">-</span>}
            </span>
          ))}
        </p>
        <Alert tone="warning" live={false}>
          <p id="reset-code-help">{t('reset.dialog.codeHelp', { who })}</p>
        </Alert>
        <div className="form-actions">
          <button
            type="button"
            className="button button-secondary"
            onClick={() => void copy(started.code)}
          >
            {t('reset.dialog.copy')}
          </button>
          <button type="button" className="button" onClick={close}>
            {t('reset.dialog.done')}
          </button>
        </div>
        <p role="status" className="card-help">
          {copied === 'yes' && t('reset.dialog.copied')}
          {copied === 'failed' && t('reset.dialog.copyFailed')}
        </p>
      </>
    );
  } else {
    body = (
      <form className="form" onSubmit={(event) => void submit(event)}>
        <p>{t('reset.dialog.lead', { who })}</p>
        <p className="card-help">{t('reset.dialog.how')}</p>
        {error !== null && (
          <ErrorAlert
            error={error}
            overrides={{
              integrity_failed: t('reset.dialog.copyUnverified', { who }),
              no_escrow_access: t('reset.dialog.noEscrow'),
            }}
          />
        )}
        <div className="checkbox-field">
          <input
            id="reset-lift-lockout"
            type="checkbox"
            checked={liftLockout}
            onChange={(event) => setLiftLockout(event.target.checked)}
            aria-describedby="reset-lift-lockout-help"
          />
          <label htmlFor="reset-lift-lockout">{t('reset.dialog.liftLockout')}</label>
        </div>
        <p className="card-help" id="reset-lift-lockout-help">
          {locked
            ? t('reset.dialog.lockedUntil', {
                time: formatDateTime(person.lockedUntil ?? '', language),
              })
            : t('reset.dialog.notLocked')}
        </p>
        <div className="checkbox-field">
          <input
            id="reset-remove-factors"
            type="checkbox"
            checked={removeSecondFactors}
            onChange={(event) => setRemoveSecondFactors(event.target.checked)}
            aria-describedby="reset-remove-factors-help"
          />
          <label htmlFor="reset-remove-factors">{t('reset.dialog.removeSecondFactors')}</label>
        </div>
        <p className="card-help" id="reset-remove-factors-help">
          {person.secondFactors.length > 0
            ? t('reset.dialog.removeSecondFactorsHelp', { who })
            : t('reset.dialog.noSecondFactors', { who })}
        </p>
        {working && <Busy label={t('reset.dialog.working')} />}
        <div className="form-actions">
          <button type="submit" className="button button-danger" disabled={working}>
            {t('reset.dialog.submit')}
          </button>
          <button
            type="button"
            className="button button-secondary"
            disabled={working}
            onClick={close}
          >
            {t('common.cancel')}
          </button>
        </div>
      </form>
    );
  }

  return (
    <Dialog id="reset-password" open title={t('reset.dialog.title', { who })} onClose={close}>
      {body}
      {!outerGuard && own.dialog}
    </Dialog>
  );
}
