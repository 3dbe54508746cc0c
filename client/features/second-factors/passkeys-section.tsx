// Account: one's passkeys and security keys: add with a name, rename, remove, and "unlock with passkey" on or off (PRF).
import { useMutation } from '@tanstack/react-query';
import { transfer } from 'comlink';
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import {
  type SecondFactor,
  finishPasskeyRegistration,
  removePasskeyUnlock,
  removeSecondFactor,
  renameSecondFactor,
  startPasskeyRegistration,
} from '../../../shared/api';
import { PASSKEY_UNLOCK_PRF_SALT } from '../../../shared/flows/passkey-prf-salt';
import { useAccount } from '../../account';
import { callApi, isApiError } from '../../api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { Dialog } from '../../components/dialog';
import { ErrorAlert } from '../../components/error-alert';
import { Field } from '../../components/field';
import { useReauthenticated } from '../../components/reauth-dialog';
import { formatDateTime } from '../../i18n/format';
import { RenameForm } from './factor-list';
import { useFactorsChanged, useOwnFactors } from './own-factors';
import { ForeignRelyingPartyError, assertPasskey, createPasskey, localPasskeyOptions } from './webauthn';

/** What went wrong in the browser's own part (the authenticator), with its message key under passkeys.errors. */
class PasskeyProblem extends Error {
  constructor(readonly problem: 'ceremony' | 'noPrf' | 'otherPasskey' | 'foreignSite') {
    super(problem);
    this.name = 'PasskeyProblem';
  }
}

/** Runs the browser's WebAuthn prompt; a refusal (cancelled, timed out, no such passkey, options for another site) becomes a PasskeyProblem. */
async function ceremony<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (failure) {
    throw new PasskeyProblem(failure instanceof ForeignRelyingPartyError ? 'foreignSite' : 'ceremony');
  }
}

type Notice = { readonly key: 'added' | 'addedUnlocks' | 'renamed' | 'removed' | 'unlockOn' | 'unlockOff'; readonly name: string };

export function PasskeysSection() {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const account = useAccount();
  const factors = useOwnFactors();
  const factorsChanged = useFactorsChanged();
  const { guard, dialog } = useReauthenticated();
  const [name, setName] = useState('');
  const [nameError, setNameError] = useState<string | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [renaming, setRenaming] = useState<string | null>(null);
  const [removing, setRemoving] = useState<SecondFactor | null>(null);
  // Focus returns to a row's button (or the heading) after the render that shows it.
  const [focusId, setFocusId] = useState<{ id: string; seq: number } | null>(null);
  const moveFocus = (id: string) => setFocusId((previous) => ({ id, seq: (previous?.seq ?? 0) + 1 }));
  useEffect(() => {
    if (focusId) document.getElementById(focusId.id)?.focus();
  }, [focusId]);

  const passkeys = factors.data?.factors.filter((factor) => factor.kind === 'passkey') ?? [];

  const add = useMutation({
    mutationFn: (passkeyName: string) =>
      guard(async () => {
        const { ceremonyId, options } = await callApi(startPasskeyRegistration, { body: {} });
        const { response, prfEnabled } = await ceremony(() => createPasskey(options));
        const factor = await callApi(finishPasskeyRegistration, { body: { ceremonyId, name: passkeyName, response } });
        return { factor, prfEnabled };
      }),
    onSuccess: async ({ factor, prfEnabled }) => {
      setName('');
      setNotice({ key: prfEnabled ? 'addedUnlocks' : 'added', name: factor.name });
      await factorsChanged();
      moveFocus(prfEnabled ? `passkey-unlock-${factor.id}` : 'passkeys-title');
    },
  });

  const turnOnUnlock = useMutation({
    mutationFn: (factor: SecondFactor) =>
      guard(async () => {
        const credentialId = factor.credentialId;
        if (!credentialId) throw new PasskeyProblem('otherPasskey');
        // The authenticator derives its PRF output for this client's fixed salt; the server never sees it.
        const { response, prfOutput } = await ceremony(() => assertPasskey(localPasskeyOptions(credentialId), PASSKEY_UNLOCK_PRF_SALT));
        if (response.id !== credentialId) throw new PasskeyProblem('otherPasskey');
        if (!prfOutput) throw new PasskeyProblem('noPrf');
        // Transferred to the crypto worker, which wraps the user key with it: this page keeps no copy.
        await account.run((api) => api.enablePasskeyUnlock(factor.id, credentialId, transfer(prfOutput, [prfOutput])));
      }),
    onSuccess: async (_nothing, factor) => {
      setNotice({ key: 'unlockOn', name: factor.name });
      await factorsChanged();
      moveFocus(`passkey-unlock-${factor.id}`);
    },
  });

  const turnOffUnlock = useMutation({
    mutationFn: (factor: SecondFactor) => guard(() => callApi(removePasskeyUnlock, { params: { id: factor.id } })),
    onSuccess: async (_nothing, factor) => {
      setNotice({ key: 'unlockOff', name: factor.name });
      await factorsChanged();
      moveFocus(`passkey-unlock-${factor.id}`);
    },
  });

  const rename = useMutation({
    mutationFn: (input: { factor: SecondFactor; name: string }) => callApi(renameSecondFactor, { params: { id: input.factor.id }, body: { name: input.name } }),
    onSuccess: async (factor) => {
      setRenaming(null);
      setNotice({ key: 'renamed', name: factor.name });
      await factorsChanged();
      moveFocus(`passkey-rename-${factor.id}`);
    },
  });

  const remove = useMutation({
    mutationFn: (factor: SecondFactor) => guard(() => callApi(removeSecondFactor, { params: { id: factor.id } })),
    onSuccess: async (_nothing, factor) => {
      setNotice({ key: 'removed', name: factor.name });
      await factorsChanged();
      moveFocus('passkeys-title');
    },
  });

  const mutations = [add, turnOnUnlock, turnOffUnlock, rename, remove];
  const busy = mutations.some((mutation) => mutation.isPending);
  const failed = mutations.find((mutation) => mutation.isError);
  /** Starts an action: earlier messages and errors go away. */
  const begin = () => {
    setNotice(null);
    for (const mutation of mutations) mutation.reset();
  };

  const submitAdd = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) {
      setNameError(t('passkeys.nameRequired'));
      document.getElementById('passkey-name')?.focus();
      return;
    }
    setNameError(null);
    begin();
    add.mutate(trimmed);
  };

  return (
    <section className="card" aria-labelledby="passkeys-title">
      <h2 id="passkeys-title" tabIndex={-1}>
        {t('passkeys.title')}
      </h2>
      <p className="card-help">{t('passkeys.help')}</p>
      {notice && (
        <Alert tone="success">
          <p>{t(`passkeys.notice.${notice.key}`, { name: notice.name })}</p>
        </Alert>
      )}
      {failed?.error !== undefined && failed.error !== null && <PasskeyError error={failed.error} />}
      {factors.isPending ? (
        <Busy label={t('common.loading')} />
      ) : factors.isError ? (
        <ErrorAlert error={factors.error} />
      ) : passkeys.length === 0 ? (
        <p>{t('passkeys.none')}</p>
      ) : (
        <ul className="item-list" aria-label={t('passkeys.listLabel')}>
          {passkeys.map((factor) => (
            <li key={factor.id} className="item">
              {renaming === factor.id ? (
                <RenameForm
                  factor={factor}
                  busy={rename.isPending}
                  onSave={(newName) => {
                    begin();
                    rename.mutate({ factor, name: newName });
                  }}
                  onCancel={() => {
                    setRenaming(null);
                    moveFocus(`passkey-rename-${factor.id}`);
                  }}
                />
              ) : (
                <>
                  <div>
                    <p className="item-title">
                      {factor.name}
                      {factor.unlocks && <span className="badge badge-ok">{t('passkeys.unlocks')}</span>}
                    </p>
                    <p className="item-meta">
                      {t('passkeys.added', { time: formatDateTime(factor.createdAt, language) })} ·{' '}
                      {factor.lastUsedAt ? t('passkeys.lastUsed', { time: formatDateTime(factor.lastUsedAt, language) }) : t('passkeys.neverUsed')}
                    </p>
                  </div>
                  <div className="row-actions">
                    <button
                      id={`passkey-unlock-${factor.id}`}
                      type="button"
                      className="button button-small button-secondary"
                      aria-label={t(factor.unlocks ? 'passkeys.unlockOffLabel' : 'passkeys.unlockOnLabel', { name: factor.name })}
                      disabled={busy}
                      onClick={() => {
                        begin();
                        if (factor.unlocks) turnOffUnlock.mutate(factor);
                        else turnOnUnlock.mutate(factor);
                      }}
                    >
                      {t(factor.unlocks ? 'passkeys.unlockOff' : 'passkeys.unlockOn')}
                    </button>
                    <button
                      id={`passkey-rename-${factor.id}`}
                      type="button"
                      className="button button-small button-secondary"
                      aria-label={t('passkeys.renameLabel', { name: factor.name })}
                      disabled={busy}
                      onClick={() => {
                        begin();
                        setRenaming(factor.id);
                      }}
                    >
                      {t('passkeys.rename')}
                    </button>
                    <button
                      type="button"
                      className="button button-small button-danger"
                      aria-label={t('passkeys.removeLabel', { name: factor.name })}
                      disabled={busy}
                      onClick={() => {
                        begin();
                        setRemoving(factor);
                      }}
                    >
                      {t('passkeys.remove')}
                    </button>
                  </div>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      <p className="card-help">{t('passkeys.unlockHelp')}</p>
      <form className="form" onSubmit={submitAdd} noValidate aria-labelledby="passkey-add-title">
        <h3 id="passkey-add-title">{t('passkeys.addTitle')}</h3>
        <Field id="passkey-name" label={t('passkeys.nameLabel')} hint={t('passkeys.nameHint')} error={nameError}>
          {(describedBy) => (
            <input
              id="passkey-name"
              className="input"
              type="text"
              value={name}
              maxLength={60}
              onChange={(event) => setName(event.target.value)}
              autoComplete="off"
              required
              aria-invalid={nameError ? true : undefined}
              aria-describedby={describedBy}
            />
          )}
        </Field>
        {add.isPending && <Busy label={t('passkeys.adding')} />}
        <div className="form-actions">
          <button type="submit" className="button" disabled={busy}>
            {t('passkeys.add')}
          </button>
        </div>
      </form>
      <Dialog id="passkey-remove" open={removing !== null} title={removing ? t('passkeys.removeTitle', { name: removing.name }) : ''} onClose={() => setRemoving(null)}>
        <p>{t('passkeys.removeBody')}</p>
        {removing?.unlocks && (
          <Alert tone="warning" live={false}>
            <p>{t('passkeys.removeUnlocks')}</p>
          </Alert>
        )}
        <div className="form-actions">
          <button
            type="button"
            className="button button-danger"
            onClick={() => {
              const factor = removing;
              setRemoving(null);
              if (factor) remove.mutate(factor);
            }}
          >
            {t('passkeys.removeConfirm')}
          </button>
          <button type="button" className="button button-secondary" onClick={() => setRemoving(null)}>
            {t('common.cancel')}
          </button>
        </div>
      </Dialog>
      {dialog}
    </section>
  );
}

/** A failure of one of the actions: the browser's own problems in words of this section, the rest as everywhere. */
function PasskeyError({ error }: { readonly error: unknown }) {
  const { t } = useTranslation();
  // The password dialog was cancelled: nothing to say.
  if (isApiError(error) && error.code === 'reauthentication_required') return null;
  if (error instanceof PasskeyProblem) {
    return (
      <Alert tone={error.problem === 'foreignSite' ? 'security' : 'error'}>
        <p>{t(`passkeys.errors.${error.problem}`)}</p>
      </Alert>
    );
  }
  return <ErrorAlert error={error} />;
}
