// Open escrow resets (issue 21): four eyes (a second staff member approves before the link is e-mailed), declining and withdrawing.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { approveReset, cancelReset, listResets, type ResetView } from '../../../shared/api';
import { useSignedIn } from '../../account';
import { callApi } from '../../api';
import { Alert } from '../../components/alert';
import { ErrorAlert } from '../../components/error-alert';
import { formatDateTime } from '../../i18n/format';

export const resetsKey = (userId: string) => ['resets', userId] as const;

export interface ResetApprovalsProps {
  readonly guard: <T>(action: () => Promise<T>) => Promise<T>;
  /** The name to show for a person (decrypted on the People page), by user id. */
  readonly nameOf: (userId: string) => string | null;
  /** A reset changed: the People list (its pending-reset column) is stale. */
  readonly onChanged: () => void;
}

export function ResetApprovals({ guard, nameOf, onChanged }: ResetApprovalsProps) {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const { session } = useSignedIn();
  const queryClient = useQueryClient();
  const key = resetsKey(session.user.id);
  const resets = useQuery({ queryKey: key, queryFn: ({ signal }) => callApi(listResets, {}, { signal }) });
  const [notice, setNotice] = useState<string | null>(null);
  // What the staff member is about to do, waiting for their confirmation.
  const [pending, setPending] = useState<{ reset: ResetView; kind: 'approve' | 'cancel' } | null>(null);

  const whoOf = (reset: ResetView) => nameOf(reset.userId) ?? reset.userEmail;
  const changed = async (text: string) => {
    setPending(null);
    setNotice(text);
    onChanged();
    await queryClient.invalidateQueries({ queryKey: key });
  };
  const approve = useMutation({
    // Four eyes need a recent login of the second person too (the server asks).
    mutationFn: (reset: ResetView) => guard(() => callApi(approveReset, { params: { id: reset.id } })),
    onSuccess: (_result, reset) => changed(t('lifecycle.approved', { who: whoOf(reset) })),
  });
  const cancel = useMutation({
    mutationFn: (reset: ResetView) => guard(() => callApi(cancelReset, { params: { id: reset.id } })),
    onSuccess: (_result, reset) =>
      changed(
        reset.status === 'awaiting_approval' && reset.createdBy !== session.user.id
          ? t('lifecycle.declined', { who: whoOf(reset) })
          : t('lifecycle.cancelled', { who: whoOf(reset) }),
      ),
  });
  const working = approve.isPending || cancel.isPending;

  if (resets.isPending) return null;
  if (resets.isError) return <ErrorAlert error={resets.error} />;
  const open = resets.data.resets;
  if (open.length === 0 && !notice) return null;

  return (
    <section className="card reset-approvals" aria-labelledby="reset-approvals-title">
      <h2 id="reset-approvals-title">{t('lifecycle.resetsTitle')}</h2>
      <p className="card-help">{t('lifecycle.resetsLead')}</p>
      {notice && (
        <Alert tone="success">
          <p>{notice}</p>
        </Alert>
      )}
      {approve.isError && <ErrorAlert error={approve.error} />}
      {cancel.isError && <ErrorAlert error={cancel.error} />}
      {open.length === 0 ? (
        <p>{t('lifecycle.resetsNone')}</p>
      ) : (
        <ul className="item-list" aria-labelledby="reset-approvals-title">
          {open.map((reset) => {
            const who = whoOf(reset);
            const own = reset.createdBy === session.user.id;
            const awaiting = reset.status === 'awaiting_approval';
            const confirming = pending?.reset.id === reset.id ? pending.kind : null;
            return (
              <li key={reset.id} className="item">
                <div>
                  <p className="item-title">
                    {who}{' '}
                    <span className={awaiting ? 'badge badge-attention' : 'badge'}>
                      {awaiting ? t('lifecycle.resetAwaiting') : t('lifecycle.resetSent', { time: formatDateTime(reset.expiresAt, language) })}
                    </span>
                  </p>
                  <p className="item-meta">
                    {t('lifecycle.resetStartedBy', {
                      who: own ? t('people.you') : reset.createdByEmail,
                      time: formatDateTime(reset.createdAt, language),
                    })}
                    {reset.liftLockout && ` · ${t('lifecycle.resetLiftsLock')}`}
                    {reset.removeSecondFactors && ` · ${t('lifecycle.resetRemovesFactors')}`}
                    {reset.failedAttempts > 0 && ` · ${t('lifecycle.resetWrongCodes', { count: reset.failedAttempts })}`}
                  </p>
                  {awaiting && own && <p className="item-meta">{t('lifecycle.resetOwn')}</p>}
                </div>
                {confirming ? (
                  <div className="form-actions">
                    <p>
                      {confirming === 'approve'
                        ? t('lifecycle.approveQuestion', { who })
                        : awaiting && !own
                          ? t('lifecycle.declineQuestion', { who })
                          : t('lifecycle.cancelQuestion', { who })}
                    </p>
                    <button
                      type="button"
                      className={confirming === 'approve' ? 'button button-small' : 'button button-small button-danger'}
                      disabled={working}
                      // The confirmation replaces the buttons that opened it: keyboard focus moves onto it.
                      autoFocus
                      onClick={() => (confirming === 'approve' ? approve.mutate(reset) : cancel.mutate(reset))}
                    >
                      {working ? t('lifecycle.working') : t('lifecycle.confirmYes')}
                    </button>
                    <button type="button" className="button button-small button-secondary" disabled={working} onClick={() => setPending(null)}>
                      {t('lifecycle.confirmNo')}
                    </button>
                  </div>
                ) : (
                  <div className="row-actions">
                    {awaiting && !own && (
                      <button
                        type="button"
                        className="button button-small"
                        aria-label={t('lifecycle.approveFor', { who })}
                        onClick={() => setPending({ reset, kind: 'approve' })}
                      >
                        {t('lifecycle.approve')}
                      </button>
                    )}
                    <button
                      type="button"
                      className="button button-small button-secondary"
                      aria-label={awaiting && !own ? t('lifecycle.declineFor', { who }) : t('lifecycle.cancelFor', { who })}
                      onClick={() => setPending({ reset, kind: 'cancel' })}
                    >
                      {awaiting && !own ? t('lifecycle.decline') : t('lifecycle.cancelReset')}
                    </button>
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
