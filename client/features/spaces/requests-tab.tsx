// The Requests tab: staff ask for documents (title, description, due date, items); clients upload per item.
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Busy } from '../../components/busy';
import { Dialog } from '../../components/dialog';
import { ErrorAlert } from '../../components/error-alert';
import { Field } from '../../components/field';
import { FilePicker } from '../../components/file-picker';
import { formatDateTime, formatDay } from '../../i18n/format';
import type { RequestView, SpaceView } from '../../worker/space-types';
import { isOverdue, today } from './request-dates';
import { NotSignedMark, SecurityBanner } from './security-banner';
import { useRefreshSpace, useSpaceRun } from './space-api';
import { useDocuments, useIsStaff, useNameOf, useRequests } from './space-queries';
import { useTransferActions } from './transfer-bridge';

export function RequestsTab({ space }: { space: SpaceView }) {
  const { t } = useTranslation();
  const staff = useIsStaff();
  const requests = useRequests(space.id);
  const [creating, setCreating] = useState(false);

  let body;
  if (requests.isPending) {
    body = <Busy label={t('requests.loading')} />;
  } else if (requests.isError) {
    body = <ErrorAlert error={requests.error} />;
  } else if (requests.data.requests.length === 0) {
    body = (
      <p className="empty-state">{staff ? t('requests.emptyStaff') : t('requests.emptyClient')}</p>
    );
  } else {
    const open = requests.data.requests.filter((request) => request.closedAt === null);
    const closed = requests.data.requests.filter((request) => request.closedAt !== null);
    // Changes only on top of a verified history, to requests that are in it.
    const writable = requests.data.security.writable;
    body = (
      <div className="stack">
        {[...open, ...closed].map((request) => (
          <RequestCard
            key={request.id}
            space={space}
            request={request}
            writable={writable && !request.unverified}
          />
        ))}
      </div>
    );
  }

  return (
    <div>
      {requests.data && <SecurityBanner security={requests.data.security} />}
      <div className="pane-heading">
        <h2>{t('requests.title')}</h2>
        {staff && space.kind === 'client' && requests.data?.security.writable && (
          <button type="button" className="button button-small" onClick={() => setCreating(true)}>
            {t('requests.new')}
          </button>
        )}
      </div>
      <p className="card-help">{staff ? t('requests.leadStaff') : t('requests.leadClient')}</p>
      {body}
      {creating && <NewRequestDialog space={space} onClose={() => setCreating(false)} />}
    </div>
  );
}

function RequestCard({
  space,
  request,
  writable,
}: {
  space: SpaceView;
  request: RequestView;
  writable: boolean;
}) {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const staff = useIsStaff();
  const nameOf = useNameOf();
  const listing = useDocuments(space.id);
  const transfers = useTransferActions();
  const run = useSpaceRun();
  const refresh = useRefreshSpace();
  const close = useMutation({
    mutationFn: () => run((api) => api.closeRequest(space.id, request.id)),
    onSuccess: () => refresh(space.id),
  });
  const documents = new Map((listing.data?.documents ?? []).map((d) => [d.id, d]));
  const overdue = isOverdue(request.dueDate, request.closedAt, today());
  const titleId = `request-${request.id}-title`;
  const title = request.title ?? t('requests.cannotDecrypt');

  return (
    <section className="card request" aria-labelledby={titleId}>
      <div className="pane-heading">
        <h3 id={titleId}>
          {request.title ?? <span className="cannot-decrypt">{t('requests.cannotDecrypt')}</span>}
        </h3>
        {request.closedAt ? (
          <span className="badge badge-ok">{t('requests.closed')}</span>
        ) : overdue ? (
          <span className="badge badge-error">{t('requests.overdue')}</span>
        ) : (
          <span className="badge">{t('requests.open')}</span>
        )}
        {request.unverified && <NotSignedMark inHistory={request.createdBy !== null} />}
      </div>
      {request.description && <p className="message-text">{request.description}</p>}
      <p className="item-meta">
        {t('requests.due', { date: formatDay(request.dueDate, language) })}
        {' · '}
        {t('requests.askedBy', {
          who: nameOf(request.createdBy),
          time: formatDateTime(request.createdAt, language),
        })}
        {request.closedAt &&
          ` · ${t('requests.closedBy', {
            who: nameOf(request.closedBy),
            time: formatDateTime(request.closedAt, language),
          })}`}
      </p>
      <ul className="item-list">
        {request.items.map((item) => {
          const uploaded = item.documentIds.length > 0;
          const description = item.description ?? t('requests.cannotDecrypt');
          return (
            <li key={item.id} className="item">
              <div>
                <p className="item-title">
                  {item.description ?? (
                    <span className="cannot-decrypt">{t('requests.cannotDecrypt')}</span>
                  )}
                </p>
                <p className="item-meta">
                  {uploaded ? (
                    <>
                      <span className="badge badge-ok">{t('requests.itemUploaded')}</span>{' '}
                      {item.documentIds
                        .map(
                          (id) => documents.get(id)?.current.name ?? t('documents.cannotDecrypt'),
                        )
                        .join(', ')}
                    </>
                  ) : (
                    <span className="badge">{t('requests.itemOpen')}</span>
                  )}
                </p>
              </div>
              {!staff && writable && request.closedAt === null && (
                <FilePicker
                  multiple
                  className="button button-small"
                  label={t('requests.uploadFor', { item: description })}
                  onFiles={(files) =>
                    transfers.enqueueUploads(files, {
                      kind: 'new-document',
                      spaceId: space.id,
                      folderId: null,
                      requestItemId: item.id,
                    })
                  }
                >
                  {uploaded ? t('requests.uploadMore') : t('requests.upload')}
                </FilePicker>
              )}
            </li>
          );
        })}
      </ul>
      {close.isError && <ErrorAlert error={close.error} />}
      {staff && writable && request.closedAt === null && (
        <div className="form-actions">
          <button
            type="button"
            className="button button-secondary"
            disabled={close.isPending}
            aria-label={t('requests.closeNamed', { title })}
            onClick={() => close.mutate()}
          >
            {t('requests.close')}
          </button>
        </div>
      )}
    </section>
  );
}

function NewRequestDialog({ space, onClose }: { space: SpaceView; onClose: () => void }) {
  const { t } = useTranslation();
  const run = useSpaceRun();
  const refresh = useRefreshSpace();
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [dueDate, setDueDate] = useState('');
  const [items, setItems] = useState<string[]>(['']);
  const create = useMutation({
    mutationFn: () =>
      run((api) =>
        api.createRequest(space.id, {
          title: title.trim(),
          description: description.trim(),
          dueDate,
          items: items.map((item) => item.trim()).filter((item) => item !== ''),
        }),
      ),
    onSuccess: async () => {
      await refresh(space.id);
      onClose();
    },
  });
  const ready = title.trim() !== '' && dueDate !== '' && items.some((item) => item.trim() !== '');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (ready) create.mutate();
  };
  return (
    <Dialog id="new-request" open title={t('requests.new')} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        {create.isError && <ErrorAlert error={create.error} />}
        <Field id="request-title" label={t('requests.titleLabel')}>
          {(describedBy) => (
            <input
              id="request-title"
              className="input"
              value={title}
              required
              autoFocus
              maxLength={300}
              aria-describedby={describedBy}
              onChange={(event) => setTitle(event.target.value)}
            />
          )}
        </Field>
        <Field id="request-description" label={t('requests.description')}>
          {(describedBy) => (
            <textarea
              id="request-description"
              className="input"
              rows={3}
              value={description}
              aria-describedby={describedBy}
              onChange={(event) => setDescription(event.target.value)}
            />
          )}
        </Field>
        <Field id="request-due" label={t('requests.dueDate')} hint={t('requests.dueDateHint')}>
          {(describedBy) => (
            <input
              id="request-due"
              className="input input-date"
              type="date"
              min={today()}
              value={dueDate}
              required
              aria-describedby={describedBy}
              onChange={(event) => setDueDate(event.target.value)}
            />
          )}
        </Field>
        <fieldset className="fieldset">
          <legend className="field-label">{t('requests.items')}</legend>
          {items.map((item, index) => (
            <div className="field-row" key={index}>
              <label className="visually-hidden" htmlFor={`request-item-${index}`}>
                {t('requests.itemLabel', { number: index + 1 })}
              </label>
              <input
                id={`request-item-${index}`}
                className="input"
                value={item}
                maxLength={500}
                placeholder={t('requests.itemPlaceholder')}
                onChange={(event) =>
                  setItems((current) =>
                    current.map((value, at) => (at === index ? event.target.value : value)),
                  )
                }
              />
              {items.length > 1 && (
                <button
                  type="button"
                  className="button button-small button-secondary"
                  aria-label={t('requests.removeItem', { number: index + 1 })}
                  onClick={() => setItems((current) => current.filter((_, at) => at !== index))}
                >
                  {t('requests.remove')}
                </button>
              )}
            </div>
          ))}
          <button
            type="button"
            className="button button-small button-secondary"
            onClick={() => setItems((current) => [...current, ''])}
          >
            {t('requests.addItem')}
          </button>
        </fieldset>
        <div className="form-actions">
          <button type="submit" className="button" disabled={create.isPending || !ready}>
            {t('requests.create')}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose}>
            {t('common.cancel')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
