// A person's view of audit events (issue 22): each event in words (en + nl; an unknown action by its
// code), who, when and from where, paged newest first, and checked in the worker against the signed log.
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { AuditEventView } from '../../../shared/api';
import { useAccount, useSignedIn } from '../../account';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { en } from '../../i18n/en';
import { formatDateTime } from '../../i18n/format';
import type { EventCheckState } from '../../worker';

export interface HistoryPage {
  readonly events: AuditEventView[];
  readonly nextCursor: number | null;
}

const CHECK_TONE: Record<EventCheckState, string> = {
  recorded: 'badge badge-ok',
  'not-yet-signed': 'badge badge-list',
  'hash-mismatch': 'badge badge-security',
  'not-included': 'badge badge-security',
  unavailable: 'badge badge-security',
};

type Actions = typeof en.history.actions;
type ActionKey = {
  [A in keyof Actions]: `history.actions.${A}.${keyof Actions[A] & string}`;
}[keyof Actions];
const ROLES = ['admin', 'team', 'client', 'auditor'] as const;

/** The message key of an action the messages describe in words; null for any other (shown by its code). */
export function actionKey(action: string): ActionKey | null {
  const [area, verb, ...rest] = action.split('.');
  if (rest.length > 0 || !area || !verb || !Object.hasOwn(en.history.actions, area)) return null;
  if (!Object.hasOwn(en.history.actions[area as keyof Actions], verb)) return null;
  // Checked just above: both parts name a message.
  return `history.actions.${area}.${verb}` as ActionKey;
}

function roleOf(role: string | null): (typeof ROLES)[number] | null {
  return ROLES.find((known) => known === role) ?? null;
}

/** Escrow uses stand out: the organisation's key opened, granted, reset or re-sealed something of this person. */
export function isEscrowUse(action: string): boolean {
  return action.startsWith('escrow.');
}

export function HistoryEvents({
  queryKey,
  load,
  labelledBy,
}: {
  queryKey: readonly unknown[];
  load: (before: number | undefined, signal: AbortSignal) => Promise<HistoryPage>;
  labelledBy: string;
}) {
  const { t, i18n } = useTranslation();
  const { session } = useSignedIn();
  const account = useAccount();
  const language = i18n.resolvedLanguage ?? 'en';
  const pages = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam, signal }) => load(pageParam, signal),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const events = pages.data?.pages.flatMap((page) => page.events) ?? [];
  // WARNING: "recorded" only after the worker re-hashed the event and checked its inclusion path to a verified head.
  const checks = useQuery({
    queryKey: ['history-checks', ...queryKey, events],
    queryFn: () => account.run((api) => api.checkHistoryEvents(events)),
    enabled: events.length > 0,
    staleTime: Infinity,
  });

  if (pages.isPending) return <Busy label={t('common.loading')} />;
  if (pages.isError) return <ErrorAlert error={pages.error} />;
  if (events.length === 0) return <p>{t('history.empty')}</p>;

  const stateOf = new Map(checks.data?.events.map((check) => [check.seq, check.state]));
  const actionText = (action: string) => {
    const key = actionKey(action);
    return key ? t(key) : action;
  };
  const whoOf = (event: AuditEventView) => {
    if (event.actorId !== null && event.actorId === session.user.id) return t('history.you');
    if (event.actorEmail) return event.actorEmail;
    return event.actorId === null ? t('history.system') : t('history.unknownPerson');
  };

  return (
    <>
      {checks.isPending && <Busy label={t('history.checking')} />}
      {checks.isError && <ErrorAlert error={checks.error} />}
      {checks.data?.problem && (
        <Alert tone="security" title={t('history.problemTitle')}>
          <p>{t(`history.problem.${checks.data.problem}`)}</p>
          <p>{t('history.problemHelp')}</p>
        </Alert>
      )}
      {checks.data && !checks.data.problem && (
        <p className="card-help">
          {checks.data.head
            ? t('history.headSummary', {
                count: checks.data.head.treeSize,
                time: formatDateTime(checks.data.head.signedAt, language),
              })
            : t('history.noHeadYet')}
        </p>
      )}
      <ol className="item-list history-events" aria-labelledby={labelledBy}>
        {events.map((event) => {
          const state = stateOf.get(event.seq);
          const known = roleOf(event.actorRole);
          const role = known ? t(`roles.${known}`) : null;
          return (
            <li key={event.seq} className="item" data-action={event.action}>
              <div>
                <p className="item-title">
                  {actionText(event.action)}
                  {isEscrowUse(event.action) && (
                    <span className="badge badge-attention">{t('history.escrowUse')}</span>
                  )}
                  {event.result === 'failure' && (
                    <span className="badge badge-error">{t('history.resultFailure')}</span>
                  )}
                  {event.result === 'denied' && (
                    <span className="badge badge-error">{t('history.resultDenied')}</span>
                  )}
                </p>
                <p className="item-meta">
                  {formatDateTime(event.occurredAt, language)}
                  {' · '}
                  {t('history.who', { who: whoOf(event) })}
                  {role && ` ${t('history.role', { role })}`}
                  {event.ip && ` · ${t('history.fromWhere', { ip: event.ip })}`}
                </p>
                {state && (
                  <p className="item-meta">
                    <span className={CHECK_TONE[state]}>{t(`history.check.${state}`)}</span>
                  </p>
                )}
              </div>
            </li>
          );
        })}
      </ol>
      {pages.hasNextPage && (
        <div className="form-actions">
          <button
            type="button"
            className="button button-secondary"
            disabled={pages.isFetchingNextPage}
            onClick={() => void pages.fetchNextPage()}
          >
            {pages.isFetchingNextPage ? t('history.loadingOlder') : t('history.loadOlder')}
          </button>
        </div>
      )}
    </>
  );
}
