// One audit event in full (every hashed field, the hashes, IP, user agent, role, result) with its inclusion proof
// verified in the worker against the signed head, and links to the timelines of its actor and target.
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { useAccount } from '../../account';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { formatDateTime } from '../../i18n/format';
import type { AuditEventDetail } from '../../worker';
import { auditHref } from './audit-page';

function InclusionAlert({ detail }: { detail: AuditEventDetail }) {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const head = detail.head;
  switch (detail.inclusion) {
    case 'verified':
      return (
        <Alert tone="success" title={t('audit.detail.includedTitle')}>
          <p>
            {t('audit.detail.included', {
              size: head?.treeSize ?? 0,
              root: head?.rootHash.slice(0, 16) ?? '',
              at: head ? formatDateTime(head.signedAt, language) : '',
              steps: detail.pathLength,
            })}
          </p>
        </Alert>
      );
    case 'unsigned':
      return (
        <Alert tone="info">
          <p>{t('audit.detail.unsigned')}</p>
        </Alert>
      );
    default:
      return (
        <Alert tone="security" title={t('audit.detail.failedTitle')}>
          <p>{t(`audit.detail.failed.${detail.inclusion}`, { seq: detail.event.seq })}</p>
        </Alert>
      );
  }
}

export function AuditEventPage({ seq }: { seq: string }) {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const account = useAccount();
  const number = /^[1-9]\d{0,15}$/.test(seq) ? Number(seq) : null;
  const detail = useQuery({
    queryKey: ['audit-event', number],
    queryFn: () => account.run((api) => api.auditEventDetail(number ?? 0)),
    enabled: number !== null,
  });
  const title = t('audit.detail.title', { seq: number ?? seq });
  const event = detail.data?.event;
  const rows: [string, ReactNode][] = event
    ? [
        [t('audit.detail.seq'), event.seq],
        [t('audit.detail.id'), <code key="id">{event.id}</code>],
        [t('audit.detail.occurredAt'), <time key="t" dateTime={event.occurredAt}>{`${formatDateTime(event.occurredAt, language)} (${event.occurredAt})`}</time>],
        [t('audit.detail.action'), <code key="a">{event.action}</code>],
        [t('audit.detail.actor'), event.actorId ? `${event.actorEmail ?? '—'} (${event.actorId})` : t('audit.noActor')],
        [t('audit.detail.role'), event.actorRole ?? '—'],
        [t('audit.detail.targetType'), event.targetType ?? '—'],
        [t('audit.detail.target'), event.targetId ? `${event.targetEmail ? `${event.targetEmail} ` : ''}(${event.targetId})` : '—'],
        [t('audit.detail.ip'), event.ip ?? '—'],
        [t('audit.detail.userAgent'), event.userAgent ?? '—'],
        [t('audit.detail.result'), event.result ? t(`audit.result.${event.result}`) : t('audit.result.unknown')],
        [t('audit.detail.details'), <pre key="d" className="audit-details">{event.details}</pre>],
        [t('audit.detail.encoding'), event.encoding],
        [t('audit.detail.prevHash'), <code key="p">{event.prevHash}</code>],
        [t('audit.detail.hash'), <code key="h">{event.hash}</code>],
      ]
    : [];
  return (
    <div className="page">
      <title>{`${title}: Kluis`}</title>
      <p>
        <Link href="/audit">{t('audit.detail.back')}</Link>
      </p>
      <h1>{title}</h1>
      {number === null ? (
        <Alert tone="error">
          <p>{t('errors.audit_event_not_found')}</p>
        </Alert>
      ) : detail.isPending ? (
        <Busy label={t('audit.detail.loading')} />
      ) : detail.isError ? (
        <ErrorAlert error={detail.error} />
      ) : event ? (
        <>
          <InclusionAlert detail={detail.data} />
          <dl className="audit-fields">
            {rows.map(([label, value]) => (
              <div key={label}>
                <dt>{label}</dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
          <ul>
            {event.actorId && (
              <li>
                <Link href={auditHref({ actor: event.actorId })}>{t('audit.detail.actorTimeline', { who: event.actorEmail ?? event.actorId })}</Link>
              </li>
            )}
            {event.targetId && (
              <li>
                <Link href={auditHref({ target: event.targetId })}>
                  {t('audit.detail.targetTimeline', { what: event.targetEmail ?? `${event.targetType ?? ''} ${event.targetId}`.trim() })}
                </Link>
              </li>
            )}
          </ul>
        </>
      ) : null}
    </div>
  );
}
