// Browsers that skip the second factor for 30 days: which, since when, until when; stop trusting one.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { TFunction } from 'i18next';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { revokeTrustedDevice, type TrustedDevice } from '../../../shared/api';
import { useSignedIn } from '../../account';
import { callApi } from '../../api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { formatDateTime } from '../../i18n/format';
import { describeUserAgent } from './codes';
import { trustedDevicesKey, useTrustedDevices } from './own-factors';

/** "Firefox on Windows", from the User-Agent the browser sent when it was trusted. */
export function deviceName(t: TFunction, userAgent: string | null): string {
  const { browser, system } = describeUserAgent(userAgent);
  if (!browser && !system) return t('secondFactors.devices.unknownBrowser');
  return t('secondFactors.devices.browserOn', {
    browser: browser ?? t('secondFactors.devices.unknownBrowser'),
    system: system ?? t('secondFactors.devices.unknownSystem'),
  });
}

export function TrustedDevices() {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const { session } = useSignedIn();
  const queryClient = useQueryClient();
  const devices = useTrustedDevices();
  const [notice, setNotice] = useState(false);
  const revoke = useMutation({
    mutationFn: (device: TrustedDevice) =>
      callApi(revokeTrustedDevice, { params: { id: device.id } }),
    onSuccess: async () => {
      setNotice(true);
      document.getElementById('trusted-devices-title')?.focus();
      await queryClient.invalidateQueries({ queryKey: trustedDevicesKey(session.user.id) });
    },
  });

  return (
    <section className="card" aria-labelledby="trusted-devices-title">
      <h2 id="trusted-devices-title" tabIndex={-1}>
        {t('secondFactors.devices.title')}
      </h2>
      <p className="card-help">{t('secondFactors.devices.help')}</p>
      {notice && (
        <Alert tone="success">
          <p>{t('secondFactors.devices.revoked')}</p>
        </Alert>
      )}
      {revoke.isError && <ErrorAlert error={revoke.error} />}
      {devices.isPending ? (
        <Busy label={t('common.loading')} />
      ) : devices.isError ? (
        <ErrorAlert error={devices.error} />
      ) : devices.data.devices.length === 0 ? (
        <p>{t('secondFactors.devices.none')}</p>
      ) : (
        <ul className="item-list">
          {devices.data.devices.map((device) => {
            const name = deviceName(t, device.userAgent);
            const since = formatDateTime(device.createdAt, language);
            return (
              <li key={device.id} className="item">
                <div>
                  <p className="item-title">
                    {name}
                    {device.current && (
                      <span className="badge badge-ok">
                        {t('secondFactors.devices.thisBrowser')}
                      </span>
                    )}
                  </p>
                  <p className="item-meta">
                    {t('secondFactors.devices.since', { time: since })}
                    {device.lastUsedAt
                      ? ` · ${t('secondFactors.devices.lastUsed', { time: formatDateTime(device.lastUsedAt, language) })}`
                      : ''}
                    {` · ${t('secondFactors.devices.expires', { time: formatDateTime(device.expiresAt, language) })}`}
                    {device.ip ? ` · ${device.ip}` : ''}
                  </p>
                </div>
                <button
                  type="button"
                  className="button button-small button-secondary"
                  aria-label={t('secondFactors.devices.revokeLabel', { device: name, time: since })}
                  disabled={revoke.isPending}
                  onClick={() => {
                    setNotice(false);
                    revoke.mutate(device);
                  }}
                >
                  {t('secondFactors.devices.revoke')}
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
