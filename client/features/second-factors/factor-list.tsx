// One's own second factors: kind, name, added, last used; rename, and remove (after the password again when the login is not recent).
import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { removeSecondFactor, renameSecondFactor, type SecondFactor } from '../../../shared/api';
import { callApi, isApiError } from '../../api';
import { Alert } from '../../components/alert';
import { Dialog } from '../../components/dialog';
import { ErrorAlert } from '../../components/error-alert';
import { useReauthenticated } from '../../components/reauth-dialog';
import { formatDateTime } from '../../i18n/format';
import { useFactorsChanged } from './own-factors';

export function FactorList({ factors }: { readonly factors: readonly SecondFactor[] }) {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const factorsChanged = useFactorsChanged();
  const { guard, dialog } = useReauthenticated();
  const [renaming, setRenaming] = useState<string | null>(null);
  const [removing, setRemoving] = useState<SecondFactor | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // Focus goes back to the row's button (or the heading) after the render that shows it.
  const [focusId, setFocusId] = useState<{ id: string; seq: number } | null>(null);
  const moveFocus = (id: string) =>
    setFocusId((previous) => ({ id, seq: (previous?.seq ?? 0) + 1 }));
  useEffect(() => {
    if (focusId) document.getElementById(focusId.id)?.focus();
  }, [focusId]);

  const rename = useMutation({
    mutationFn: (input: { id: string; name: string }) =>
      callApi(renameSecondFactor, { params: { id: input.id }, body: { name: input.name } }),
    onSuccess: async (_factor, input) => {
      setRenaming(null);
      setNotice(t('secondFactors.factors.renamed'));
      moveFocus(`factor-rename-${input.id}`);
      await factorsChanged();
    },
  });
  const remove = useMutation({
    mutationFn: (factor: SecondFactor) =>
      guard(() => callApi(removeSecondFactor, { params: { id: factor.id } })),
    onSuccess: async (_nothing, factor) => {
      setNotice(t('secondFactors.factors.removed', { name: factor.name }));
      moveFocus('factor-list-title');
      await factorsChanged();
    },
  });
  const removeCancelled =
    isApiError(remove.error) && remove.error.code === 'reauthentication_required';

  return (
    <section className="card" aria-labelledby="factor-list-title">
      <h2 id="factor-list-title" tabIndex={-1}>
        {t('secondFactors.factors.title')}
      </h2>
      {notice && (
        <Alert tone="success">
          <p>{notice}</p>
        </Alert>
      )}
      {rename.isError && <ErrorAlert error={rename.error} />}
      {remove.isError && !removeCancelled && <ErrorAlert error={remove.error} />}
      {factors.length === 0 ? (
        <p>{t('secondFactors.factors.none')}</p>
      ) : (
        <ul className="item-list">
          {factors.map((factor) => (
            <li key={factor.id} className="item">
              {renaming === factor.id ? (
                <RenameForm
                  factor={factor}
                  busy={rename.isPending}
                  onSave={(name) => {
                    setNotice(null);
                    rename.mutate({ id: factor.id, name });
                  }}
                  onCancel={() => {
                    setRenaming(null);
                    moveFocus(`factor-rename-${factor.id}`);
                  }}
                />
              ) : (
                <>
                  <div>
                    <p className="item-title">
                      {factor.name}
                      {factor.unlocks && (
                        <span className="badge badge-ok">{t('secondFactors.factors.unlocks')}</span>
                      )}
                    </p>
                    <p className="item-meta">
                      {t(`secondFactors.kind.${factor.kind}`)} ·{' '}
                      {t('secondFactors.factors.added', {
                        time: formatDateTime(factor.createdAt, language),
                      })}{' '}
                      ·{' '}
                      {factor.lastUsedAt
                        ? t('secondFactors.factors.lastUsed', {
                            time: formatDateTime(factor.lastUsedAt, language),
                          })
                        : t('secondFactors.factors.neverUsed')}
                    </p>
                  </div>
                  <div className="row-actions">
                    <button
                      id={`factor-rename-${factor.id}`}
                      type="button"
                      className="button button-small button-secondary"
                      aria-label={t('secondFactors.factors.renameLabel', { name: factor.name })}
                      onClick={() => {
                        rename.reset();
                        setNotice(null);
                        setRenaming(factor.id);
                      }}
                    >
                      {t('secondFactors.factors.rename')}
                    </button>
                    <button
                      type="button"
                      className="button button-small button-danger"
                      aria-label={t('secondFactors.factors.removeLabel', { name: factor.name })}
                      disabled={remove.isPending}
                      onClick={() => {
                        remove.reset();
                        setNotice(null);
                        setRemoving(factor);
                      }}
                    >
                      {t('secondFactors.factors.remove')}
                    </button>
                  </div>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      <Dialog
        id="factor-remove"
        open={removing !== null}
        title={removing ? t('secondFactors.factors.removeTitle', { name: removing.name }) : ''}
        onClose={() => setRemoving(null)}
      >
        <p>{t('secondFactors.factors.removeBody')}</p>
        {factors.length === 1 && (
          <Alert tone="warning" live={false}>
            <p>{t('secondFactors.factors.removeLast')}</p>
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
            {t('secondFactors.factors.removeConfirm')}
          </button>
          <button
            type="button"
            className="button button-secondary"
            onClick={() => setRemoving(null)}
          >
            {t('common.cancel')}
          </button>
        </div>
      </Dialog>
      {dialog}
    </section>
  );
}

function RenameForm({
  factor,
  busy,
  onSave,
  onCancel,
}: {
  readonly factor: SecondFactor;
  readonly busy: boolean;
  readonly onSave: (name: string) => void;
  readonly onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [name, setName] = useState(factor.name);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const id = `rename-${factor.id}`;

  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) {
      setError(t('secondFactors.totp.nameRequired'));
      input.current?.focus();
      return;
    }
    onSave(trimmed);
  };

  return (
    <form className="form rename-form" onSubmit={submit} noValidate>
      <div className={`field${error ? ' field-invalid' : ''}`}>
        <label className="field-label" htmlFor={id}>
          {t('secondFactors.factors.newName', { name: factor.name })}
        </label>
        <input
          ref={input}
          id={id}
          className="input"
          type="text"
          value={name}
          maxLength={60}
          onChange={(event) => setName(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Escape') onCancel();
          }}
          required
          autoComplete="off"
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
        />
        {error && (
          <p className="field-error" id={`${id}-error`}>
            {error}
          </p>
        )}
      </div>
      <div className="form-actions">
        <button type="submit" className="button button-small" disabled={busy}>
          {t('secondFactors.factors.save')}
        </button>
        <button
          type="button"
          className="button button-small button-secondary"
          onClick={onCancel}
          disabled={busy}
        >
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}
