// The auditor's workspace (issue 22; Auditors and Administrators): the filtered event table with paging, per
// person and per target timelines, verification of the whole log in this browser, countersigning, and exports.
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import type { TFunction } from 'i18next';
import { proxy } from 'comlink';
import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'wouter';
import { useAccount, useSignedIn } from '../../account';
import { callApi } from '../../api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { Field } from '../../components/field';
import { formatDateTime } from '../../i18n/format';
import type { AuditVerificationView, VerifyAuditProgress } from '../../worker';
import { type AuditEventView, type AuditFilter, auditFilterSchema, listAuditEvents } from '../../../shared/api';
import { auditCsv } from './audit-csv';
import { type FailureLike, failureText, headLabel, shortId } from './audit-text';
import { WitnessList, auditWitnessesKey } from './witness-list';

/** Events per page of the table. */
const PAGE_SIZE = 50;

const FILTER_KEYS = ['actor', 'action', 'target', 'from', 'to', 'result'] as const;
type FilterKey = (typeof FILTER_KEYS)[number];

/** The filter in the address (so a timeline is a link): only the keys that are set. */
export function filterFromParams(params: URLSearchParams): AuditFilter {
  const filter: Record<string, string> = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key)?.trim();
    if (value) filter[key] = value;
  }
  // An address edited by hand: the server checks every value and answers audit_filter_invalid.
  const parsed = auditFilterSchema.safeParse(filter);
  return parsed.success ? parsed.data : { ...filter, result: undefined };
}

/** The address of the table with `filter` (e.g. a person's or a document's timeline). */
export function auditHref(filter: Partial<Record<FilterKey, string>>): string {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = filter[key];
    if (value) params.set(key, value);
  }
  const query = params.toString();
  return query ? `/audit?${query}` : '/audit';
}

export function AuditPage() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const filter = filterFromParams(params);
  return (
    <div className="page">
      <title>{t('audit.documentTitle')}</title>
      <h1>{t('audit.title')}</h1>
      <p className="lead">{t('audit.lead')}</p>
      <VerifyPanel />
      <WitnessList />
      <EventTable filter={filter} />
    </div>
  );
}

/** The filter form, kept in the address. */
function FilterForm({ filter }: { filter: AuditFilter }) {
  const { t } = useTranslation();
  const [, setParams] = useSearchParams();
  const id = useId();
  const [draft, setDraft] = useState<Record<FilterKey, string>>(() => ({
    actor: filter.actor ?? '',
    action: filter.action ?? '',
    target: filter.target ?? '',
    from: filter.from ?? '',
    to: filter.to ?? '',
    result: filter.result ?? '',
  }));
  const set = (key: FilterKey) => (event: { target: { value: string } }) => setDraft((d) => ({ ...d, [key]: event.target.value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const key of FILTER_KEYS) if (draft[key].trim()) next.set(key, draft[key].trim());
    setParams(next);
  };
  const clear = () => {
    setDraft({ actor: '', action: '', target: '', from: '', to: '', result: '' });
    setParams(new URLSearchParams());
  };
  const text = (key: Exclude<FilterKey, 'result'>, hint?: string) => (
    <Field id={`${id}-${key}`} label={t(`audit.filter.${key}`)} hint={hint}>
      {(describedBy) => <input id={`${id}-${key}`} className="input" value={draft[key]} onChange={set(key)} aria-describedby={describedBy} />}
    </Field>
  );
  return (
    <form className="card audit-filter" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('audit.filter.title')}</h2>
      {text('action', t('audit.filter.actionHint'))}
      {text('actor', t('audit.filter.idHint'))}
      {text('target', t('audit.filter.idHint'))}
      {text('from', t('audit.filter.dateHint'))}
      {text('to', t('audit.filter.dateHint'))}
      <Field id={`${id}-result`} label={t('audit.filter.result')}>
        {() => (
          <select id={`${id}-result`} className="input" value={draft.result} onChange={set('result')}>
            <option value="">{t('audit.filter.anyResult')}</option>
            <option value="success">{t('audit.result.success')}</option>
            <option value="failure">{t('audit.result.failure')}</option>
            <option value="denied">{t('audit.result.denied')}</option>
          </select>
        )}
      </Field>
      <div className="form-actions">
        <button type="submit" className="button">
          {t('audit.filter.apply')}
        </button>
        <button type="button" className="button button-secondary" onClick={clear}>
          {t('audit.filter.clear')}
        </button>
      </div>
    </form>
  );
}

function resultText(t: TFunction, result: AuditEventView['result']): string {
  return result ? t(`audit.result.${result}`) : t('audit.result.unknown');
}

/** Heading of the table: a person's or a target's timeline when that is the only filter. */
function tableTitle(t: TFunction, filter: AuditFilter, first: AuditEventView | undefined): string {
  const keys = Object.keys(filter);
  if (keys.length === 1 && filter.actor) return t('audit.timelinePerson', { who: (first?.actorId === filter.actor ? first.actorEmail : null) ?? filter.actor });
  if (keys.length === 1 && filter.target) {
    const email = first?.targetId === filter.target ? first.targetEmail : null;
    return t('audit.timelineTarget', { what: email ?? (first?.targetId === filter.target && first.targetType ? `${first.targetType} ${filter.target}` : filter.target) });
  }
  return keys.length > 0 ? t('audit.filteredEvents') : t('audit.allEvents');
}

function EventTable({ filter }: { filter: AuditFilter }) {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const key = JSON.stringify(filter);
  const events = useInfiniteQuery({
    queryKey: ['audit-events', filter],
    queryFn: ({ pageParam }) => callApi(listAuditEvents, { query: { ...filter, limit: PAGE_SIZE, ...(pageParam ? { before: pageParam } : {}) } }),
    initialPageParam: 0,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = events.data?.pages.flatMap((page) => page.events) ?? [];
  const title = tableTitle(t, filter, rows[0]);
  return (
    <>
      <FilterForm key={key} filter={filter} />
      <ExportPanel filter={filter} />
      <section aria-labelledby="audit-events-title">
        <h2 id="audit-events-title">{title}</h2>
        {events.isPending ? (
          <Busy label={t('audit.loading')} />
        ) : events.isError ? (
          <ErrorAlert error={events.error} />
        ) : rows.length === 0 ? (
          <p className="empty-state">{Object.keys(filter).length > 0 ? t('audit.emptyFiltered') : t('audit.empty')}</p>
        ) : (
          <>
            <div className="table-wrap" tabIndex={0} role="region" aria-label={title}>
              <table className="data-table">
                <caption className="visually-hidden">{title}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('audit.column.seq')}</th>
                    <th scope="col">{t('audit.column.when')}</th>
                    <th scope="col">{t('audit.column.action')}</th>
                    <th scope="col">{t('audit.column.actor')}</th>
                    <th scope="col">{t('audit.column.role')}</th>
                    <th scope="col">{t('audit.column.target')}</th>
                    <th scope="col">{t('audit.column.result')}</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((event) => (
                    <tr key={event.seq}>
                      <th scope="row">
                        <Link href={`/audit/events/${event.seq}`} aria-label={t('audit.openEvent', { seq: event.seq })}>
                          #{event.seq}
                        </Link>
                      </th>
                      <td>
                        <time dateTime={event.occurredAt}>{formatDateTime(event.occurredAt, language)}</time>
                      </td>
                      <td>
                        <code>{event.action}</code>
                      </td>
                      <td>
                        {event.actorId ? (
                          <Link href={auditHref({ actor: event.actorId })} aria-label={t('audit.personTimeline', { who: event.actorEmail ?? event.actorId })}>
                            {event.actorEmail ?? shortId(event.actorId)}
                          </Link>
                        ) : (
                          t('audit.noActor')
                        )}
                      </td>
                      <td>{event.actorRole ? t(`roles.${event.actorRole as 'admin'}`, { defaultValue: event.actorRole }) : '—'}</td>
                      <td>
                        {event.targetId ? (
                          <Link
                            href={auditHref({ target: event.targetId })}
                            aria-label={t('audit.targetTimeline', { what: event.targetEmail ?? `${event.targetType ?? ''} ${event.targetId}`.trim() })}
                          >
                            {event.targetType ? `${event.targetType} ` : ''}
                            {event.targetEmail ?? shortId(event.targetId)}
                          </Link>
                        ) : (
                          '—'
                        )}
                      </td>
                      <td>{resultText(t, event.result)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <p className="card-help" role="status">
              {t('audit.shown', { count: rows.length })}
            </p>
            {events.hasNextPage && (
              <div className="form-actions">
                <button type="button" className="button button-secondary" disabled={events.isFetchingNextPage} onClick={() => void events.fetchNextPage()}>
                  {events.isFetchingNextPage ? t('audit.loadingOlder') : t('audit.loadOlder')}
                </button>
              </div>
            )}
          </>
        )}
      </section>
    </>
  );
}

function saveFile(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = name;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

type ExportState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'busy'; readonly format: 'json' | 'csv' }
  | { readonly kind: 'done'; readonly format: 'json' | 'csv'; readonly count: number; readonly size: number }
  | { readonly kind: 'refused'; readonly failure: FailureLike }
  | { readonly kind: 'error'; readonly error: unknown };

/** Export JSON (verifiable) and CSV of the current filter: verified in the worker before anything is saved. */
function ExportPanel({ filter }: { filter: AuditFilter }) {
  const { t } = useTranslation();
  const account = useAccount();
  const [state, setState] = useState<ExportState>({ kind: 'idle' });
  const run = async (format: 'json' | 'csv') => {
    setState({ kind: 'busy', format });
    try {
      const result = await account.run((api) => api.exportAuditLog(filter, format));
      if (!result.ok) {
        setState({ kind: 'refused', failure: result });
        return;
      }
      const base = `kluis-audit-${result.head.treeSize}-${result.data.exportedAt.slice(0, 10)}`;
      if (format === 'json') saveFile(`${base}.json`, `${JSON.stringify(result.data, null, 2)}\n`, 'application/json');
      else saveFile(`${base}.csv`, auditCsv(result.data.events), 'text/csv;charset=utf-8');
      setState({ kind: 'done', format, count: result.data.events.length, size: result.head.treeSize });
    } catch (error) {
      setState({ kind: 'error', error });
    }
  };
  const busy = state.kind === 'busy';
  return (
    <section className="card" aria-labelledby="audit-export-title">
      <h2 id="audit-export-title">{t('audit.export.title')}</h2>
      <p className="card-help">{t('audit.export.help')}</p>
      <div className="form-actions">
        <button type="button" className="button button-secondary" disabled={busy} onClick={() => void run('json')}>
          {t('audit.export.json')}
        </button>
        <button type="button" className="button button-secondary" disabled={busy} onClick={() => void run('csv')}>
          {t('audit.export.csv')}
        </button>
      </div>
      {state.kind === 'busy' && <Busy label={t('audit.export.busy')} />}
      {state.kind === 'done' && (
        <Alert tone="success">
          <p>{t(state.format === 'json' ? 'audit.export.doneJson' : 'audit.export.doneCsv', { count: state.count, size: state.size })}</p>
        </Alert>
      )}
      {state.kind === 'refused' && (
        <Alert tone="security" title={t('audit.export.refusedTitle')}>
          <p>{failureText(t, state.failure)}</p>
        </Alert>
      )}
      {state.kind === 'error' && <ErrorAlert error={state.error} />}
    </section>
  );
}

type VerifyState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'running'; readonly progress: VerifyAuditProgress | null }
  | { readonly kind: 'done'; readonly result: AuditVerificationView }
  | { readonly kind: 'error'; readonly error: unknown };

/** Verification of the whole log in this browser, and countersigning the verified head (Auditors). */
function VerifyPanel() {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const account = useAccount();
  const { session } = useSignedIn();
  const queryClient = useQueryClient();
  const [state, setState] = useState<VerifyState>({ kind: 'idle' });
  const [signed, setSigned] = useState<{ size: number } | null>(null);
  const [signError, setSignError] = useState<unknown>(null);
  const [signing, setSigning] = useState(false);
  const pin = useQuery({ queryKey: ['audit-pin'], queryFn: () => account.run((api) => api.auditPin()) });

  const verify = async () => {
    setSigned(null);
    setSignError(null);
    setState({ kind: 'running', progress: null });
    try {
      const result = await account.run((api) => api.verifyAuditLog(proxy((progress: VerifyAuditProgress) => setState({ kind: 'running', progress }))));
      setState({ kind: 'done', result });
      await queryClient.invalidateQueries({ queryKey: ['audit-pin'] });
    } catch (error) {
      setState({ kind: 'error', error });
    }
  };

  const countersign = async () => {
    setSigning(true);
    setSignError(null);
    try {
      const witness = await account.run((api) => api.countersignAuditHead());
      setSigned({ size: witness.treeSize });
      await queryClient.invalidateQueries({ queryKey: auditWitnessesKey });
    } catch (error) {
      setSignError(error);
    } finally {
      setSigning(false);
    }
  };

  const result = state.kind === 'done' ? state.result : null;
  return (
    <section className="card" aria-labelledby="audit-verify-title">
      <h2 id="audit-verify-title">{t('audit.verify.title')}</h2>
      <p className="card-help">{t('audit.verify.help')}</p>
      {pin.data && (
        <p className="item-meta">
          {t('audit.verify.pinned', { head: headLabel(pin.data), at: formatDateTime(pin.data.signedAt, language) })}
        </p>
      )}
      <div className="form-actions">
        <button type="button" className="button" disabled={state.kind === 'running'} onClick={() => void verify()}>
          {t('audit.verify.start')}
        </button>
      </div>
      {state.kind === 'running' &&
        (state.progress ? (
          <div className="rotation-progress">
            <progress max={Math.max(state.progress.total, 1)} value={state.progress.verified} aria-label={t('audit.verify.progress', { verified: state.progress.verified, total: state.progress.total })} />
            <p role="status">{t('audit.verify.progress', { verified: state.progress.verified, total: state.progress.total })}</p>
          </div>
        ) : (
          <Busy label={t('audit.verify.starting')} />
        ))}
      {state.kind === 'error' && <ErrorAlert error={state.error} />}
      {result?.ok && (
        <Alert tone="success" title={t('audit.verify.okTitle')}>
          <p>
            {t('audit.verify.ok', {
              count: result.verified,
              root: result.head.rootHash.slice(0, 16),
              size: result.head.treeSize,
              at: formatDateTime(result.head.signedAt, language),
            })}
          </p>
          <p>
            {t('audit.verify.logKey')} <code className="audit-key-id">{result.head.keyId}</code>
          </p>
          {result.unsignedTail > 0 && <p>{t('audit.verify.tail', { count: result.unsignedTail })}</p>}
          {result.prunedThrough !== null && <p>{t('audit.verify.pruned', { seq: result.prunedThrough })}</p>}
          {result.previous && <p>{t('audit.verify.consistent', { size: result.previous.treeSize, root: result.previous.rootHash.slice(0, 16) })}</p>}
        </Alert>
      )}
      {result && !result.ok && (
        <Alert tone="security" title={t('audit.verify.failedTitle')}>
          <p>{failureText(t, result)}</p>
          {result.previous && (
            <p>{t('audit.verify.pinnedWas', { size: result.previous.treeSize, root: result.previous.rootHash.slice(0, 16) })}</p>
          )}
          <p>{t('audit.verify.failedAction')}</p>
        </Alert>
      )}
      {result?.ok && session.user.role === 'auditor' && (
        <div className="form-actions">
          <button type="button" className="button button-secondary" disabled={signing || signed !== null} onClick={() => void countersign()}>
            {t('audit.witness.sign')}
          </button>
        </div>
      )}
      {signing && <Busy label={t('audit.witness.signing')} />}
      {signed && (
        <Alert tone="success">
          <p>{t('audit.witness.signed', { size: signed.size })}</p>
        </Alert>
      )}
      {signError !== null && <ErrorAlert error={signError} />}
    </section>
  );
}
