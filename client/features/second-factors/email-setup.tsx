// Turning on e-mail codes: a first code goes to one's own address and is typed back here.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import {
  confirmEmailFactorSetup,
  startEmailFactorSetup,
  type SecondFactor,
} from '../../../shared/api';
import { useSignedIn } from '../../account';
import { callApi, isApiError } from '../../api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { useReauthenticated } from '../../components/reauth-dialog';
import { EMAIL_RESEND_COOLDOWN_MS } from '../login/second-factor-step';
import { CodeField } from './code-field';
import { normaliseOneTimeCode, secondsLeft } from './codes';

export function EmailSetup({
  active,
  onAdded,
}: {
  readonly active: boolean;
  readonly onAdded: (factor: SecondFactor) => void;
}) {
  const { t } = useTranslation();
  const { session } = useSignedIn();
  const { guard, dialog } = useReauthenticated();
  const [setupId, setSetupId] = useState<string | null>(null);
  const [sentUntil, setSentUntil] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  const [sending, setSending] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const codeInput = useRef<HTMLInputElement>(null);
  const startButton = useRef<HTMLButtonElement>(null);
  const [focus, setFocus] = useState<{ target: 'code' | 'start'; seq: number } | null>(null);

  useEffect(() => {
    if (!focus) return;
    ({ code: codeInput, start: startButton })[focus.target].current?.focus();
  }, [focus]);
  const moveFocus = (target: 'code' | 'start') =>
    setFocus((previous) => ({ target, seq: (previous?.seq ?? 0) + 1 }));

  const cooldown = secondsLeft(sentUntil, now);
  useEffect(() => {
    if (cooldown === 0) return;
    const timer = setTimeout(() => setNow(Date.now()), 1000);
    return () => clearTimeout(timer);
  }, [cooldown, now]);

  const send = async () => {
    setSending(true);
    setError(null);
    try {
      const started = await guard(() => callApi(startEmailFactorSetup, { body: {} }));
      const sentAt = Date.now();
      setSetupId(started.setupId);
      setNow(sentAt);
      setSentUntil(sentAt + EMAIL_RESEND_COOLDOWN_MS);
      setCode('');
      setCodeError(null);
      moveFocus('code');
    } catch (failure) {
      if (!(isApiError(failure) && failure.code === 'reauthentication_required')) setError(failure);
    } finally {
      setSending(false);
    }
  };

  const stop = () => {
    setSetupId(null);
    setCode('');
    setCodeError(null);
    moveFocus('start');
  };

  const confirm = async (event: FormEvent) => {
    event.preventDefault();
    if (!setupId) return;
    const normalised = normaliseOneTimeCode(code);
    if (!normalised) {
      setCodeError(t('secondFactors.step.codeFormat'));
      return moveFocus('code');
    }
    setConfirming(true);
    setError(null);
    setCodeError(null);
    try {
      const factor = await guard(() =>
        callApi(confirmEmailFactorSetup, { body: { setupId, code: normalised } }),
      );
      setSetupId(null);
      setCode('');
      onAdded(factor);
    } catch (failure) {
      if (isApiError(failure) && failure.code === 'second_factor_invalid') {
        setCodeError(t('secondFactors.email.invalid'));
        setCode('');
        moveFocus('code');
      } else if (isApiError(failure) && failure.code === 'factor_setup_expired') {
        setSetupId(null);
        setError(failure);
        moveFocus('start');
      } else if (!(isApiError(failure) && failure.code === 'reauthentication_required')) {
        setError(failure);
      }
    } finally {
      setConfirming(false);
    }
  };

  return (
    <section className="card" aria-labelledby="email-setup-title">
      <h3 id="email-setup-title">{t('secondFactors.email.title')}</h3>
      {error !== null && <ErrorAlert error={error} />}
      <p className="card-help">{t('secondFactors.email.help')}</p>
      {active ? (
        <p>{t('secondFactors.email.on')}</p>
      ) : !setupId ? (
        <>
          <div className="form-actions">
            <button
              ref={startButton}
              type="button"
              className="button"
              disabled={sending}
              onClick={() => void send()}
            >
              {t('secondFactors.email.start')}
            </button>
          </div>
          {sending && <Busy label={t('secondFactors.step.sending')} />}
        </>
      ) : (
        <form className="form" onSubmit={(event) => void confirm(event)} noValidate>
          <Alert tone="success">
            <p>{t('secondFactors.email.sent', { email: session.user.email })}</p>
          </Alert>
          <CodeField
            ref={codeInput}
            id="email-setup-code"
            label={t('secondFactors.step.codeLabel.email')}
            hint={t('secondFactors.step.codeHint.email')}
            error={codeError}
            value={code}
            onChange={setCode}
            readOnly={confirming}
          />
          {(confirming || sending) && (
            <Busy
              label={sending ? t('secondFactors.step.sending') : t('secondFactors.step.checking')}
            />
          )}
          <div className="form-actions">
            <button type="submit" className="button" disabled={confirming}>
              {t('secondFactors.email.submit')}
            </button>
            <button
              type="button"
              className="button button-secondary"
              disabled={sending || confirming || cooldown > 0}
              onClick={() => void send()}
            >
              {cooldown > 0
                ? t('secondFactors.email.resendIn', { seconds: cooldown })
                : t('secondFactors.email.resend')}
            </button>
            <button
              type="button"
              className="button button-secondary"
              onClick={stop}
              disabled={confirming}
            >
              {t('common.cancel')}
            </button>
          </div>
        </form>
      )}
      {dialog}
    </section>
  );
}
