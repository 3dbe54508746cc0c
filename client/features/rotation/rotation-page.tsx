// Escrow rotation (Administrators, issue 21): after someone lost the organisation key, a new escrow key pair,
// every item re-sealed to it with progress (resumable after a closed tab), a new recovery kit, and a final check.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { proxy } from 'comlink';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { useAccount, useSignedIn } from '../../account';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { Fingerprint } from '../../components/fingerprint';
import { useReauthenticated } from '../../components/reauth-dialog';
import { formatDateTime } from '../../i18n/format';
import { RecoveryKit } from '../setup/recovery-kit';

export const rotationStatusKey = ['escrow-rotation-status'] as const;

interface Progress {
  readonly done: number;
  readonly total: number;
}

type Phase =
  | { readonly kind: 'idle' }
  | { readonly kind: 'starting' }
  | { readonly kind: 'resealing'; readonly progress: Progress | null }
  | { readonly kind: 'checking'; readonly checked: number }
  | { readonly kind: 'checked'; readonly checked: number; readonly failed: number; readonly finished: boolean };

/** "Rotation needed" for Administrators, anywhere in the signed-in area (links to the page). */
export function RotationNotice() {
  const { t } = useTranslation();
  const account = useAccount();
  const status = useQuery({
    queryKey: rotationStatusKey,
    queryFn: () => account.run((api) => api.rotationStatus()),
    staleTime: 60_000,
  });
  if (!status.data || !(status.data.needed || status.data.running)) return null;
  return (
    <Alert tone="warning" title={status.data.running ? t('rotation.noticeRunningTitle') : t('rotation.noticeTitle')}>
      <p>{status.data.running ? t('rotation.noticeRunning') : t('rotation.notice', { count: status.data.formerHolders.length })}</p>
      <p>
        <Link href="/escrow-rotation">{t('rotation.noticeAction')}</Link>
      </p>
    </Alert>
  );
}

export function RotationPage() {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const account = useAccount();
  const { session } = useSignedIn();
  const queryClient = useQueryClient();
  const { guard, dialog } = useReauthenticated();
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [kit, setKit] = useState<{ recoverySecret: string; escrowFingerprint: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const status = useQuery({
    queryKey: rotationStatusKey,
    queryFn: () => account.run((api) => api.rotationStatus()),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: rotationStatusKey });

  /** Re-seals what is pending, then runs the final check and finishes (each step resumable). */
  const reseal = async () => {
    setError(null);
    setPhase({ kind: 'resealing', progress: null });
    try {
      const run = await account.run((api) =>
        api.continueEscrowRotation(proxy((progress: Progress) => setPhase({ kind: 'resealing', progress }))),
      );
      setPhase({ kind: 'resealing', progress: run });
      if (run.remaining > 0) {
        // Items that could not be re-sealed (their key contradicts what was signed): no finish.
        setPhase({ kind: 'checked', checked: run.done, failed: run.remaining, finished: false });
        return;
      }
      setPhase({ kind: 'checking', checked: 0 });
      const check = await account.run((api) =>
        api.finishEscrowRotation(proxy((progress: { checked: number }) => setPhase({ kind: 'checking', checked: progress.checked }))),
      );
      setPhase({ kind: 'checked', checked: check.checked, failed: check.failed, finished: check.finished !== null });
    } catch (failure) {
      setError(failure);
      setPhase({ kind: 'idle' });
    } finally {
      await refresh();
    }
  };

  const start = async () => {
    setError(null);
    setPhase({ kind: 'starting' });
    try {
      const started = await guard(() => account.run((api) => api.startEscrowRotation()));
      setKit({ recoverySecret: started.recoverySecret, escrowFingerprint: started.escrowFingerprint });
      await refresh();
    } catch (failure) {
      setError(failure);
      setPhase({ kind: 'idle' });
      return;
    }
    // The kit stays on screen while the items are re-sealed: closing the tab now loses only the kit's display.
    await reseal();
  };

  const data = status.data;
  const busy = phase.kind === 'starting' || phase.kind === 'resealing' || phase.kind === 'checking';
  const running = data?.running === true;

  return (
    <div className="page">
      <title>{t('rotation.documentTitle')}</title>
      <h1>{t('rotation.title')}</h1>
      <p className="lead">{t('rotation.lead')}</p>
      {dialog}
      {kit && (
        <section aria-labelledby="rotation-kit-title">
          <h2 id="rotation-kit-title">{t('rotation.kitTitle')}</h2>
          <p>{t('rotation.kit')}</p>
          <RecoveryKit
            outcome={{ ...kit, session: { organisation: { name: session.organisation.name } } }}
            onConfirmed={() => setKit(null)}
          />
        </section>
      )}
      {error !== null && <ErrorAlert error={error} />}
      {status.isPending ? (
        <Busy label={t('common.loading')} />
      ) : status.isError ? (
        <ErrorAlert error={status.error} />
      ) : data ? (
        <>
          {data.formerHolders.length > 0 && (
            <section className="card" aria-labelledby="rotation-former-title">
              <h2 id="rotation-former-title">{t('rotation.formerTitle')}</h2>
              <p>{t('rotation.former')}</p>
              <ul>
                {data.formerHolders.map((holder) => (
                  <li key={holder.userId}>
                    {t('rotation.formerItem', { email: holder.email, since: formatDateTime(holder.since, language) })}
                  </li>
                ))}
              </ul>
            </section>
          )}
          <section className="card" aria-labelledby="rotation-state-title">
            <h2 id="rotation-state-title">{t('rotation.stateTitle')}</h2>
            <p className="field-label">{t('rotation.fingerprint')}</p>
            <p>
              <Fingerprint hex={data.escrowFingerprint} />
            </p>
            {running && data.rotation ? (
              <>
                <p>{t('rotation.running', { at: formatDateTime(data.rotation.startedAt, language) })}</p>
                {phase.kind === 'idle' && <p>{t('rotation.resume')}</p>}
              </>
            ) : data.needed ? (
              <Alert tone="warning" title={t('rotation.neededTitle')} live={false}>
                <p>{t('rotation.needed')}</p>
              </Alert>
            ) : (
              <p>
                {data.rotation?.finishedAt
                  ? t('rotation.lastFinished', { at: formatDateTime(data.rotation.finishedAt, language) })
                  : t('rotation.notNeeded')}
              </p>
            )}
            <RotationProgress phase={phase} fallback={running && data.rotation ? data.rotation : null} />
            {phase.kind === 'checked' &&
              (phase.finished ? (
                <Alert tone="success" title={t('rotation.finishedTitle')}>
                  <p>{t('rotation.finished', { count: phase.checked })}</p>
                </Alert>
              ) : (
                <Alert tone="security" title={t('rotation.checkFailedTitle')}>
                  <p>{t('rotation.checkFailed', { count: phase.failed })}</p>
                </Alert>
              ))}
            {!data.canRotate && <p className="card-help">{t('rotation.cannotRotate')}</p>}
            <div className="form-actions">
              {running ? (
                <button type="button" className="button" disabled={busy || !data.canRotate} onClick={() => void reseal()}>
                  {t('rotation.continue')}
                </button>
              ) : (
                <button type="button" className="button" disabled={busy || !data.canRotate} onClick={() => void start()}>
                  {t('rotation.start')}
                </button>
              )}
            </div>
          </section>
        </>
      ) : null}
    </div>
  );
}

/** done/total while re-sealing, then the final check's count. */
function RotationProgress({ phase, fallback }: { phase: Phase; fallback: Progress | null }) {
  const { t } = useTranslation();
  if (phase.kind === 'starting') return <Busy label={t('rotation.starting')} />;
  if (phase.kind === 'checking') return <Busy label={t('rotation.checking', { count: phase.checked })} />;
  const progress = phase.kind === 'resealing' ? (phase.progress ?? fallback) : phase.kind === 'idle' ? fallback : null;
  if (!progress) return phase.kind === 'resealing' ? <Busy label={t('rotation.resealingStart')} /> : null;
  const label = t('rotation.progress', { done: progress.done, total: progress.total });
  return (
    <div className="rotation-progress">
      <progress max={Math.max(progress.total, 1)} value={progress.done} aria-label={label} />
      <p role="status">{label}</p>
    </div>
  );
}
