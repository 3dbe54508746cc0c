// A managed person's second factors and trusted browsers (issue 20), with removal by role hierarchy, a recent login and an e-mail to the person.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import {
  getUserSecurity,
  removeUserSecondFactor,
  revokeUserTrustedDevices,
  type SecondFactor,
  type SecondFactorKind,
} from '../../../shared/api';
import { callApi } from '../../api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { Dialog } from '../../components/dialog';
import { ErrorAlert } from '../../components/error-alert';
import { formatDateTime } from '../../i18n/format';
import type { Person } from '../../worker';
import { deviceName } from '../second-factors/trusted-devices';

/** The order kinds are listed in, here and in the People column. */
export const factorKinds: readonly SecondFactorKind[] = ['totp', 'email', 'passkey'];

export interface SecurityDialogProps {
  readonly person: Person;
  /** Runs a sensitive action, asking for the password again when the server wants a recent login. */
  readonly guard: <T>(action: () => Promise<T>) => Promise<T>;
  readonly onClose: () => void;
  /** Something changed: the People list (its second-factor column) is stale. */
  readonly onChanged: () => void;
}

type Pending = { kind: 'factor'; factor: SecondFactor } | { kind: 'devices' };

export function SecurityDialog({ person, guard, onClose, onChanged }: SecurityDialogProps) {
  const { t, i18n } = useTranslation();
  const queryClient = useQueryClient();
  const language = i18n.resolvedLanguage ?? 'en';
  const who = person.name ?? person.email;
  const securityKey = ['user-security', person.id] as const;
  const security = useQuery({
    queryKey: securityKey,
    queryFn: ({ signal }) => callApi(getUserSecurity, { params: { id: person.id } }, { signal }),
  });
  // What the manager is about to do, waiting for their confirmation (the person will be e-mailed).
  const [pending, setPending] = useState<Pending | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // Keyboard users land on the confirmation when it opens (it is above the button that opened it),
  // back on that button when they keep things as they are, and on the outcome when it is done.
  const confirmButton = useRef<HTMLButtonElement>(null);
  const noticeText = useRef<HTMLParagraphElement>(null);
  const opener = useRef<HTMLElement | null>(null);
  useEffect(() => {
    if (pending) confirmButton.current?.focus();
  }, [pending]);
  useEffect(() => {
    if (notice) noticeText.current?.focus();
  }, [notice]);
  const ask = (next: Pending) => {
    opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    setNotice(null);
    removeFactor.reset();
    revokeDevices.reset();
    setPending(next);
  };

  const changed = async (text: string) => {
    setPending(null);
    setNotice(text);
    onChanged();
    await queryClient.invalidateQueries({ queryKey: securityKey });
  };
  const removeFactor = useMutation({
    mutationFn: (factor: SecondFactor) =>
      guard(() =>
        callApi(removeUserSecondFactor, { params: { id: person.id, factorId: factor.id } }),
      ),
    onSuccess: (_result, factor) =>
      changed(t('peopleSecurity.factorRemoved', { name: factor.name, who })),
  });
  const revokeDevices = useMutation({
    mutationFn: () => guard(() => callApi(revokeUserTrustedDevices, { params: { id: person.id } })),
    onSuccess: () => changed(t('peopleSecurity.devicesRevoked', { who })),
  });
  const working = removeFactor.isPending || revokeDevices.isPending;

  let body;
  if (security.isPending) {
    body = <Busy label={t('common.loading')} />;
  } else if (security.isError) {
    body = <ErrorAlert error={security.error} />;
  } else {
    const { factors, backupCodesLeft, devices } = security.data;
    body = (
      <>
        <section aria-labelledby="person-security-factors">
          <h3 id="person-security-factors">{t('peopleSecurity.factorsTitle')}</h3>
          {factors.length === 0 ? (
            <p>{t('peopleSecurity.noFactors', { who })}</p>
          ) : (
            factorKinds
              .filter((kind) => factors.some((factor) => factor.kind === kind))
              .map((kind) => (
                <div key={kind} className="stack">
                  <h4 id={`person-security-${kind}`} className="field-label">
                    {t(`peopleSecurity.kindPlural.${kind}`)}
                  </h4>
                  <ul className="item-list" aria-labelledby={`person-security-${kind}`}>
                    {factors
                      .filter((factor) => factor.kind === kind)
                      .map((factor) => (
                        <li key={factor.id} className="item">
                          <div>
                            <p className="item-title">
                              {factor.name}
                              {factor.unlocks && (
                                <span className="badge">{t('peopleSecurity.unlocks')}</span>
                              )}
                            </p>
                            <p className="item-meta">
                              {t('peopleSecurity.added', {
                                time: formatDateTime(factor.createdAt, language),
                              })}
                              {' · '}
                              {factor.lastUsedAt
                                ? t('peopleSecurity.lastUsed', {
                                    time: formatDateTime(factor.lastUsedAt, language),
                                  })
                                : t('peopleSecurity.neverUsed')}
                            </p>
                          </div>
                          <button
                            type="button"
                            className="button button-small button-danger"
                            disabled={working}
                            aria-label={t('peopleSecurity.removeFactorFor', {
                              name: factor.name,
                              who,
                            })}
                            onClick={() => ask({ kind: 'factor', factor })}
                          >
                            {t('peopleSecurity.removeFactor')}
                          </button>
                        </li>
                      ))}
                  </ul>
                </div>
              ))
          )}
          <p>
            {backupCodesLeft === 0
              ? t('peopleSecurity.noBackupCodes')
              : t('peopleSecurity.backupCodesLeft', { count: backupCodesLeft })}
          </p>
        </section>

        <section aria-labelledby="person-security-devices">
          <h3 id="person-security-devices">{t('peopleSecurity.devicesTitle')}</h3>
          <p className="card-help">{t('peopleSecurity.devicesHelp', { who })}</p>
          {devices.length === 0 ? (
            <p>{t('peopleSecurity.noDevices', { who })}</p>
          ) : (
            <>
              <ul className="item-list" aria-labelledby="person-security-devices">
                {devices.map((device) => {
                  return (
                    <li key={device.id} className="item">
                      <div>
                        <p className="item-title">{deviceName(t, device.userAgent)}</p>
                        <p className="item-meta">
                          {t('peopleSecurity.trustedSince', {
                            time: formatDateTime(device.createdAt, language),
                          })}
                          {' · '}
                          {t('peopleSecurity.trustedUntil', {
                            time: formatDateTime(device.expiresAt, language),
                          })}
                          {device.lastUsedAt &&
                            ` · ${t('peopleSecurity.lastUsed', { time: formatDateTime(device.lastUsedAt, language) })}`}
                          {device.ip ? ` · ${device.ip}` : ''}
                        </p>
                      </div>
                    </li>
                  );
                })}
              </ul>
              <button
                type="button"
                className="button button-secondary"
                disabled={working}
                onClick={() => ask({ kind: 'devices' })}
              >
                {t('peopleSecurity.revokeDevices')}
              </button>
            </>
          )}
        </section>
      </>
    );
  }

  return (
    <Dialog id="person-security" open title={t('peopleSecurity.title', { who })} onClose={onClose}>
      <p className="card-help">{t('peopleSecurity.lead', { who })}</p>
      {notice && (
        <Alert tone="success">
          <p ref={noticeText} tabIndex={-1}>
            {notice}
          </p>
        </Alert>
      )}
      {removeFactor.isError && <ErrorAlert error={removeFactor.error} />}
      {revokeDevices.isError && <ErrorAlert error={revokeDevices.error} />}
      {pending && (
        <Alert tone="warning" live={false}>
          <p>
            {pending.kind === 'factor'
              ? t('peopleSecurity.confirmRemove', {
                  name: pending.factor.name,
                  kind: t(`secondFactors.kind.${pending.factor.kind}`),
                  who,
                })
              : t('peopleSecurity.confirmRevoke', { who })}
          </p>
          <p>{t('peopleSecurity.emailed', { who })}</p>
          <div className="form-actions">
            <button
              ref={confirmButton}
              type="button"
              className="button button-danger"
              disabled={working}
              onClick={() =>
                pending.kind === 'factor'
                  ? removeFactor.mutate(pending.factor)
                  : revokeDevices.mutate()
              }
            >
              {working
                ? t('peopleSecurity.working')
                : pending.kind === 'factor'
                  ? t('peopleSecurity.confirmRemoveAction')
                  : t('peopleSecurity.confirmRevokeAction')}
            </button>
            <button
              type="button"
              className="button button-secondary"
              disabled={working}
              onClick={() => {
                setPending(null);
                opener.current?.focus();
              }}
            >
              {t('peopleSecurity.keep')}
            </button>
          </div>
        </Alert>
      )}
      {body}
      <div className="form-actions">
        <button type="button" className="button button-secondary" onClick={onClose}>
          {t('common.close')}
        </button>
      </div>
    </Dialog>
  );
}
