// The second sign-in step: an authenticator code, an e-mailed code, a passkey or a backup code, and "trust this browser".
import type { TFunction } from 'i18next';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { sendLoginEmailCode, type SecondFactorMethod } from '../../../shared/api';
import { callApi, type ApiErrorCode } from '../../api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert, codeText } from '../../components/error-alert';
import { normaliseBackupCode, normaliseOneTimeCode, secondsLeft } from '../second-factors/codes';
import { ForeignRelyingPartyError, assertPasskey } from '../second-factors/webauthn';
import type {
  PendingSecondFactor,
  SecondFactorMethodAnswered,
  SecondFactorPromptControl,
} from './use-second-factor-prompt';

/** How long the "send a new code" button waits after a code was sent (the server rate-limits as well). */
export const EMAIL_RESEND_COOLDOWN_MS = 30_000;

/** The order methods are offered in; the first one the account has is chosen at first. */
const METHOD_ORDER: readonly SecondFactorMethod[] = ['totp', 'passkey', 'email', 'backup'];

export interface SecondFactorStepProps {
  readonly idPrefix: string;
  readonly pending: PendingSecondFactor;
  readonly control: Pick<SecondFactorPromptControl, 'answer' | 'cancel'>;
  /** The address the e-mailed code goes to (shown in "we sent a code to ..."). */
  readonly email: string;
}

/** The sentence for what the server said about the previous answer, worded for the method that was used. */
export function problemText(
  t: TFunction,
  problem: ApiErrorCode,
  method: SecondFactorMethodAnswered | null,
): string {
  if (problem === 'second_factor_invalid' && method && method !== 'passkey')
    return t(`secondFactors.problem.invalid.${method}`);
  if (problem === 'second_factor_reused' && method && method !== 'passkey')
    return t(`secondFactors.problem.reused.${method}`);
  if (problem === 'validation_failed') return t('secondFactors.problem.malformed');
  return codeText(t, problem);
}

export function SecondFactorStep({ idPrefix, pending, control, email }: SecondFactorStepProps) {
  const { t } = useTranslation();
  const { challenge, problem, lastMethod, round, checking } = pending;
  const methods = METHOD_ORDER.filter((method) => challenge.methods.includes(method));
  const [method, setMethod] = useState<SecondFactorMethod>(() => methods[0] ?? 'totp');
  const [code, setCode] = useState('');
  const [formatError, setFormatError] = useState<string | null>(null);
  const [trust, setTrust] = useState(false);
  const [localError, setLocalError] = useState<unknown>(null);
  const [passkeyProblem, setPasskeyProblem] = useState<string | null>(null);
  const [emailSentUntil, setEmailSentUntil] = useState<number | null>(null);
  const [sending, setSending] = useState(false);
  const [now, setNow] = useState(() => Date.now());
  const codeInput = useRef<HTMLInputElement>(null);
  const passkeyButton = useRef<HTMLButtonElement>(null);
  const sendButton = useRef<HTMLButtonElement>(null);
  const headingId = useId();
  const ids = {
    code: `${idPrefix}-second-factor-code`,
    trust: `${idPrefix}-trust-browser`,
    problem: `${idPrefix}-second-factor-problem`,
  };

  type FocusTarget = 'code' | 'passkey' | 'send';
  const focusFor = (next: SecondFactorMethod, sent: boolean): FocusTarget =>
    next === 'passkey' ? 'passkey' : next === 'email' && !sent ? 'send' : 'code';
  // Focus moves after the render that shows its target (refs point at the new elements then).
  const [focusRequest, setFocusRequest] = useState<{
    readonly target: FocusTarget;
    readonly seq: number;
  }>(() => ({
    target: focusFor(method, false),
    seq: 0,
  }));
  const requestFocus = (target: FocusTarget) =>
    setFocusRequest((previous) => ({ target, seq: previous.seq + 1 }));
  useEffect(() => {
    ({ code: codeInput, passkey: passkeyButton, send: sendButton })[
      focusRequest.target
    ].current?.focus();
  }, [focusRequest]);

  // Each new round (a wrong answer) starts with an empty field, focused, on the method just tried.
  // Adjusted while rendering, as React advises for state that follows a prop.
  const [seenRound, setSeenRound] = useState(round);
  if (seenRound !== round) {
    const next = problem && lastMethod && lastMethod !== 'passkey' ? lastMethod : method;
    setSeenRound(round);
    setMethod(next);
    setCode('');
    setFormatError(null);
    requestFocus(focusFor(next, emailSentUntil !== null));
  }

  // The resend countdown ticks only while it runs.
  useEffect(() => {
    if (emailSentUntil === null || secondsLeft(emailSentUntil, now) === 0) return;
    const timer = setTimeout(() => setNow(Date.now()), 1000);
    return () => clearTimeout(timer);
  }, [emailSentUntil, now]);

  const choose = (next: SecondFactorMethod) => {
    setMethod(next);
    setCode('');
    setFormatError(null);
    setPasskeyProblem(null);
  };

  const sendEmailCode = async () => {
    setSending(true);
    setLocalError(null);
    try {
      await callApi(sendLoginEmailCode, { body: { challengeId: challenge.challengeId } });
      const sentAt = Date.now();
      setNow(sentAt);
      setEmailSentUntil(sentAt + EMAIL_RESEND_COOLDOWN_MS);
      requestFocus('code');
    } catch (failure) {
      setLocalError(failure);
      requestFocus('send');
    } finally {
      setSending(false);
    }
  };

  const submitCode = (event: FormEvent) => {
    event.preventDefault();
    if (method === 'passkey') return;
    const normalised = method === 'backup' ? normaliseBackupCode(code) : normaliseOneTimeCode(code);
    if (!normalised) {
      setFormatError(
        t(
          method === 'backup' ? 'secondFactors.step.backupFormat' : 'secondFactors.step.codeFormat',
        ),
      );
      requestFocus('code');
      return;
    }
    setFormatError(null);
    setLocalError(null);
    control.answer({ method, code: normalised, trustDevice: trust });
  };

  const answerWithPasskey = async () => {
    setPasskeyProblem(null);
    setLocalError(null);
    if (!challenge.passkeyOptions) {
      setPasskeyProblem(t('errors.second_factor_unavailable'));
      return;
    }
    try {
      // The PRF output (if any) is not needed for a second step: only the assertion goes on.
      const { response } = await assertPasskey(challenge.passkeyOptions);
      control.answer({ method: 'passkey', response, trustDevice: trust });
    } catch (failure) {
      // WebAuthn says NotAllowedError for a cancelled or timed-out prompt, on purpose without detail;
      // options naming another site are the server's doing, and said so.
      setPasskeyProblem(
        failure instanceof ForeignRelyingPartyError
          ? t('passkeys.errors.foreignSite')
          : failure instanceof Error && failure.name === 'NotAllowedError'
            ? t('secondFactors.step.passkeyCancelled')
            : t('secondFactors.step.passkeyFailed'),
      );
      requestFocus('passkey');
    }
  };

  const problemMessage = problem ? problemText(t, problem, lastMethod) : null;
  // A problem with a typed code is shown at the field; any other (a passkey) above the choices.
  const problemAtField =
    problemMessage !== null &&
    lastMethod !== null &&
    lastMethod !== 'passkey' &&
    lastMethod === method;
  const fieldError = formatError ?? (problemAtField ? problemMessage : null);
  const cooldown = emailSentUntil === null ? 0 : secondsLeft(emailSentUntil, now);
  const codeLabel = t(
    `secondFactors.step.codeLabel.${method === 'backup' ? 'backup' : method === 'email' ? 'email' : 'totp'}`,
  );
  const showCodeField =
    method === 'totp' || method === 'backup' || (method === 'email' && emailSentUntil !== null);

  return (
    <section className="second-factor-step" aria-labelledby={headingId}>
      <h2 id={headingId}>{t('secondFactors.step.title')}</h2>
      <p>{t('secondFactors.step.lead')}</p>
      {challenge.trustedDevice && (
        <Alert tone="info" title={t('secondFactors.step.untrustedTitle')}>
          <p>{t(`secondFactors.step.untrusted.${challenge.trustedDevice}`)}</p>
        </Alert>
      )}
      {problemMessage !== null && !problemAtField && (
        <Alert tone="error" id={ids.problem}>
          <p>{problemMessage}</p>
        </Alert>
      )}
      {localError !== null && <ErrorAlert error={localError} />}
      <form className="form" onSubmit={submitCode} noValidate>
        {methods.length > 1 && (
          <fieldset className="fieldset">
            <legend className="field-label">{t('secondFactors.step.choose')}</legend>
            {methods.map((option) => (
              <div className="radio-field" key={option}>
                <input
                  id={`${idPrefix}-method-${option}`}
                  type="radio"
                  name={`${idPrefix}-method`}
                  value={option}
                  checked={method === option}
                  onChange={() => choose(option)}
                  disabled={checking}
                />
                <label htmlFor={`${idPrefix}-method-${option}`}>
                  {t(`secondFactors.method.${option}`)}
                </label>
              </div>
            ))}
          </fieldset>
        )}

        {method === 'email' && (
          <div className="stack-small">
            {emailSentUntil === null ? (
              <p className="field-hint">{t('secondFactors.step.emailIntro', { email })}</p>
            ) : (
              <Alert tone="success">
                <p>{t('secondFactors.step.emailSent', { email })}</p>
              </Alert>
            )}
            <div className="form-actions">
              <button
                ref={sendButton}
                type="button"
                className={emailSentUntil === null ? 'button' : 'button button-secondary'}
                disabled={sending || checking || cooldown > 0}
                onClick={() => void sendEmailCode()}
              >
                {emailSentUntil === null
                  ? t('secondFactors.step.sendCode')
                  : cooldown > 0
                    ? t('secondFactors.step.resendIn', { seconds: cooldown })
                    : t('secondFactors.step.resend')}
              </button>
            </div>
            {sending && <Busy label={t('secondFactors.step.sending')} />}
          </div>
        )}

        {showCodeField && (
          <div className={`field${fieldError ? ' field-invalid' : ''}`}>
            <label className="field-label" htmlFor={ids.code}>
              {codeLabel}
            </label>
            <p className="field-hint" id={`${ids.code}-hint`}>
              {t(
                `secondFactors.step.codeHint.${method === 'backup' ? 'backup' : method === 'email' ? 'email' : 'totp'}`,
              )}
            </p>
            <input
              ref={codeInput}
              id={ids.code}
              className="input input-code"
              type="text"
              value={code}
              onChange={(event) => setCode(event.target.value)}
              inputMode={method === 'backup' ? 'text' : 'numeric'}
              autoComplete={method === 'backup' ? 'off' : 'one-time-code'}
              autoCapitalize={method === 'backup' ? 'characters' : 'off'}
              spellCheck={false}
              maxLength={method === 'backup' ? 16 : 10}
              required
              aria-invalid={fieldError ? true : undefined}
              aria-describedby={`${ids.code}-hint${fieldError ? ` ${ids.code}-error` : ''}`}
              readOnly={checking}
            />
            {fieldError && (
              <p className="field-error" id={`${ids.code}-error`}>
                {fieldError}
              </p>
            )}
          </div>
        )}

        {method === 'passkey' && (
          <div className="stack-small">
            <p className="field-hint">{t('secondFactors.step.passkeyIntro')}</p>
            {passkeyProblem && (
              <Alert tone="error">
                <p>{passkeyProblem}</p>
              </Alert>
            )}
          </div>
        )}

        <div className="checkbox-field">
          <input
            id={ids.trust}
            type="checkbox"
            checked={trust}
            onChange={(event) => setTrust(event.target.checked)}
            disabled={checking}
            aria-describedby={`${ids.trust}-hint`}
          />
          <label htmlFor={ids.trust}>{t('secondFactors.step.trust')}</label>
          <p className="checkbox-hint" id={`${ids.trust}-hint`}>
            {t('secondFactors.step.trustHint')}
          </p>
        </div>

        {checking && <Busy label={t('secondFactors.step.checking')} />}
        <div className="form-actions">
          {method === 'passkey' ? (
            <button
              ref={passkeyButton}
              type="button"
              className="button"
              disabled={checking}
              onClick={() => void answerWithPasskey()}
            >
              {t('secondFactors.step.usePasskey')}
            </button>
          ) : (
            showCodeField && (
              <button type="submit" className="button" disabled={checking}>
                {t('secondFactors.step.confirm')}
              </button>
            )
          )}
          <button
            type="button"
            className="button button-secondary"
            onClick={control.cancel}
            disabled={checking}
          >
            {t('secondFactors.step.back')}
          </button>
        </div>
      </form>
      <p className="card-help">
        {methods.includes('backup')
          ? t('secondFactors.step.lostWithBackup')
          : t('secondFactors.step.lostNoBackup')}{' '}
        {methods.includes('backup') && method !== 'backup' && (
          <button
            type="button"
            className="link-button"
            disabled={checking}
            onClick={() => {
              choose('backup');
              requestFocus('code');
            }}
          >
            {t('secondFactors.step.useBackup')}
          </button>
        )}
      </p>
    </section>
  );
}
