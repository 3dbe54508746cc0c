// Adding an authenticator app: a new key as a QR code drawn here and as text, then the first code and a name.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { confirmTotpSetup, startTotpSetup, type SecondFactor } from '../../../shared/api';
import { callApi, isApiError } from '../../api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { Field } from '../../components/field';
import { useReauthenticated } from '../../components/reauth-dialog';
import { CodeField } from './code-field';
import { groupSecret, normaliseOneTimeCode } from './codes';
import { QrCode } from './qr-code';

interface Started {
  readonly setupId: string;
  readonly secret: string;
  readonly uri: string;
}

/**
 * WARNING: the key (`secret`, also inside `uri`) is on screen only while this set-up is open; it is
 * dropped from memory when the set-up ends, never stored by the browser and never sent anywhere.
 */
export function TotpSetup({ onAdded }: { readonly onAdded: (factor: SecondFactor) => void }) {
  const { t } = useTranslation();
  const { guard, dialog } = useReauthenticated();
  const [started, setStarted] = useState<Started | null>(null);
  const [starting, setStarting] = useState(false);
  const [name, setName] = useState('');
  const [code, setCode] = useState('');
  const [nameError, setNameError] = useState<string | null>(null);
  const [codeError, setCodeError] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState(false);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const codeInput = useRef<HTMLInputElement>(null);
  const startButton = useRef<HTMLButtonElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const [focus, setFocus] = useState<{ target: 'heading' | 'code' | 'start'; seq: number } | null>(
    null,
  );

  useEffect(() => {
    if (!focus) return;
    ({ heading, code: codeInput, start: startButton })[focus.target].current?.focus();
  }, [focus]);
  const moveFocus = (target: 'heading' | 'code' | 'start') =>
    setFocus((previous) => ({ target, seq: (previous?.seq ?? 0) + 1 }));

  const start = async () => {
    setStarting(true);
    setError(null);
    try {
      const setup = await guard(() => callApi(startTotpSetup, { body: {} }));
      setStarted(setup);
      setName(t('secondFactors.totp.defaultName'));
      setCode('');
      setCodeError(null);
      setNameError(null);
      setCopied(null);
      moveFocus('heading');
    } catch (failure) {
      if (!(isApiError(failure) && failure.code === 'reauthentication_required')) setError(failure);
    } finally {
      setStarting(false);
    }
  };

  const stop = () => {
    setStarted(null);
    setCode('');
    setCopied(null);
    moveFocus('start');
  };

  const copy = async (secret: string) => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };

  const confirm = async (event: FormEvent) => {
    event.preventDefault();
    if (!started) return;
    const normalised = normaliseOneTimeCode(code);
    const trimmed = name.trim();
    setNameError(trimmed ? null : t('secondFactors.totp.nameRequired'));
    setCodeError(normalised ? null : t('secondFactors.step.codeFormat'));
    if (!trimmed) return;
    if (!normalised) return moveFocus('code');
    setConfirming(true);
    setError(null);
    try {
      const factor = await guard(() =>
        callApi(confirmTotpSetup, {
          body: { setupId: started.setupId, code: normalised, name: trimmed },
        }),
      );
      setStarted(null);
      setCode('');
      moveFocus('start');
      onAdded(factor);
    } catch (failure) {
      if (isApiError(failure) && failure.code === 'second_factor_invalid') {
        setCodeError(t('secondFactors.totp.invalid'));
        setCode('');
        moveFocus('code');
      } else if (isApiError(failure) && failure.code === 'factor_setup_expired') {
        setStarted(null);
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
    <section className="card" aria-labelledby="totp-setup-title">
      <h3 id="totp-setup-title" ref={heading} tabIndex={-1}>
        {t('secondFactors.totp.title')}
      </h3>
      {error !== null && <ErrorAlert error={error} />}
      {!started ? (
        <>
          <p className="card-help">{t('secondFactors.totp.help')}</p>
          <div className="form-actions">
            <button
              ref={startButton}
              type="button"
              className="button"
              disabled={starting}
              onClick={() => void start()}
            >
              {t('secondFactors.totp.start')}
            </button>
          </div>
          {starting && <Busy label={t('secondFactors.totp.starting')} />}
        </>
      ) : (
        <>
          <p>{t('secondFactors.totp.scan')}</p>
          <QrCode value={started.uri} label={t('secondFactors.totp.qrLabel')} />
          <p className="card-help" id="totp-key-help">
            {t('secondFactors.totp.manual')}
          </p>
          <p className="totp-key">
            <code aria-label={t('secondFactors.totp.keyLabel')} aria-describedby="totp-key-help">
              {groupSecret(started.secret).join(' ')}
            </code>
          </p>
          <div className="form-actions">
            <button
              type="button"
              className="button button-secondary button-small"
              onClick={() => void copy(started.secret)}
            >
              {t('secondFactors.totp.copy')}
            </button>
          </div>
          {copied && (
            <Alert tone={copied === 'yes' ? 'success' : 'warning'}>
              <p>
                {copied === 'yes'
                  ? t('secondFactors.totp.copied')
                  : t('secondFactors.totp.copyFailed')}
              </p>
            </Alert>
          )}
          <form className="form" onSubmit={(event) => void confirm(event)} noValidate>
            <p>{t('secondFactors.totp.confirmStep')}</p>
            <CodeField
              ref={codeInput}
              id="totp-setup-code"
              label={t('secondFactors.step.codeLabel.totp')}
              hint={t('secondFactors.step.codeHint.totp')}
              error={codeError}
              value={code}
              onChange={setCode}
              readOnly={confirming}
            />
            <Field
              id="totp-setup-name"
              label={t('secondFactors.totp.name')}
              hint={t('secondFactors.totp.nameHint')}
              error={nameError}
            >
              {(describedBy) => (
                <input
                  id="totp-setup-name"
                  className="input"
                  type="text"
                  value={name}
                  maxLength={60}
                  onChange={(event) => setName(event.target.value)}
                  required
                  aria-invalid={nameError ? true : undefined}
                  aria-describedby={describedBy}
                  autoComplete="off"
                />
              )}
            </Field>
            {confirming && <Busy label={t('secondFactors.step.checking')} />}
            <div className="form-actions">
              <button type="submit" className="button" disabled={confirming}>
                {t('secondFactors.totp.submit')}
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
        </>
      )}
      {dialog}
    </section>
  );
}
