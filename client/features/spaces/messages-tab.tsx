// The Messages tab: threads with unread counts, a new thread, a thread with its messages, replies and edits.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'wouter';
import { useSignedIn } from '../../account';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { Field } from '../../components/field';
import { formatDateTime } from '../../i18n/format';
import type { MessageView, SpaceView, ThreadDetailView } from '../../worker/space-types';
import { AttachmentPicker } from './attachment-picker';
import { NotSignedMark, SecurityBanner } from './security-banner';
import { spaceKeys, useRefreshSpace, useSpaceRun } from './space-api';
import { useDocuments, useNameOf, useThread, useThreads } from './space-queries';
import { useTransferActions } from './transfer-bridge';

export function MessagesTab({ space, threadId }: { space: SpaceView; threadId: string | null }) {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const threads = useThreads(space.id);
  const [, navigate] = useLocation();

  let list;
  if (threads.isPending) {
    list = <Busy label={t('messages.loading')} />;
  } else if (threads.isError) {
    list = <ErrorAlert error={threads.error} />;
  } else if (threads.data.threads.length === 0) {
    list = <p className="empty-state">{t('messages.empty')}</p>;
  } else {
    list = (
      <ul className="thread-list">
        {threads.data.threads.map((thread) => (
          <li key={thread.id}>
            <Link
              href={`/messages/${thread.id}`}
              className="thread-link"
              aria-current={thread.id === threadId ? 'page' : undefined}
            >
              <span className="thread-subject">
                {thread.subject ?? (
                  <span className="cannot-decrypt">{t('messages.cannotDecrypt')}</span>
                )}
                {thread.unverified && <NotSignedMark inHistory={thread.createdBy !== null} />}
                {thread.unreadCount > 0 && (
                  <span className="badge badge-attention">
                    {thread.unreadCount}
                    <span className="visually-hidden"> {t('spaces.unreadSuffix')}</span>
                  </span>
                )}
              </span>
              <span className="item-meta">
                {t('messages.threadMeta', {
                  count: thread.messageCount,
                  time: formatDateTime(thread.lastMessageAt, language),
                })}
              </span>
            </Link>
          </li>
        ))}
      </ul>
    );
  }

  // WARNING: nothing that changes the space is offered while it has an open security warning.
  const writable = threads.data?.security.writable ?? false;
  return (
    <>
      {threads.data && <SecurityBanner security={threads.data.security} />}
      <div className="messages-layout">
        <div className="thread-pane">
          <div className="pane-heading">
            <h2>{t('messages.threads')}</h2>
            {writable && (
              <button
                type="button"
                className="button button-small"
                onClick={() => navigate('/messages/new')}
              >
                {t('messages.newThread')}
              </button>
            )}
          </div>
          {list}
        </div>
        <div className="conversation-pane">
          {threadId === 'new' && writable ? (
            <NewThread space={space} />
          ) : threadId ? (
            <Thread key={threadId} space={space} threadId={threadId} />
          ) : (
            <p className="empty-state">{t('messages.choose')}</p>
          )}
        </div>
      </div>
    </>
  );
}

function NewThread({ space }: { space: SpaceView }) {
  const { t } = useTranslation();
  const { session } = useSignedIn();
  const run = useSpaceRun();
  const refresh = useRefreshSpace();
  const queryClient = useQueryClient();
  const [, navigate] = useLocation();
  const [subject, setSubject] = useState('');
  const [text, setText] = useState('');
  const [attachments, setAttachments] = useState<readonly string[]>([]);
  const start = useMutation({
    mutationFn: () => run((api) => api.startThread(space.id, subject.trim(), text, attachments)),
    onSuccess: async (detail: ThreadDetailView) => {
      queryClient.setQueryData(
        spaceKeys.thread(session.user.id, space.id, detail.thread.id),
        detail,
      );
      await refresh(space.id);
      navigate(`/messages/${detail.thread.id}`, { replace: true });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    start.mutate();
  };
  return (
    <form className="form card" onSubmit={submit} aria-labelledby="new-thread-title">
      <h2 id="new-thread-title">{t('messages.newThread')}</h2>
      {space.kind === 'client' && <p className="card-help">{t('messages.newThreadHelp')}</p>}
      {start.isError && <ErrorAlert error={start.error} />}
      <Field id="thread-subject" label={t('messages.subject')}>
        {(describedBy) => (
          <input
            id="thread-subject"
            className="input"
            value={subject}
            required
            maxLength={300}
            aria-describedby={describedBy}
            onChange={(event) => setSubject(event.target.value)}
          />
        )}
      </Field>
      <Field id="thread-text" label={t('messages.message')}>
        {(describedBy) => (
          <textarea
            id="thread-text"
            className="input"
            rows={6}
            value={text}
            required
            aria-describedby={describedBy}
            onChange={(event) => setText(event.target.value)}
          />
        )}
      </Field>
      <AttachmentPicker
        space={space}
        idPrefix="thread-attach"
        chosen={attachments}
        onChange={setAttachments}
      />
      <div className="form-actions">
        <button
          type="submit"
          className="button"
          disabled={start.isPending || subject.trim() === '' || text.trim() === ''}
        >
          {start.isPending ? t('messages.sending') : t('messages.send')}
        </button>
        <button
          type="button"
          className="button button-secondary"
          onClick={() => navigate('/messages')}
        >
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

function Thread({ space, threadId }: { space: SpaceView; threadId: string }) {
  const { t } = useTranslation();
  const detail = useThread(space.id, threadId);
  const run = useSpaceRun();
  const refresh = useRefreshSpace();
  const unread = detail.data?.thread.unreadCount ?? 0;

  // Opening a thread reads it: the server moves this user's read marker, counts go down.
  useEffect(() => {
    if (unread === 0) return;
    run((api) => api.markThreadRead(threadId)).then(
      () => refresh(space.id),
      () => undefined,
    );
  }, [threadId, unread, run, refresh, space.id]);

  if (detail.isPending) return <Busy label={t('messages.loadingThread')} />;
  if (detail.isError) return <ErrorAlert error={detail.error} />;
  const { thread, messages, security } = detail.data;
  // A reply needs a verified history without an open warning, and a thread that is in it.
  const writable = security.writable && !thread.unverified;
  return (
    <div className="thread">
      <SecurityBanner security={security} />
      <h2 className="thread-title">
        {thread.subject ?? <span className="cannot-decrypt">{t('messages.cannotDecrypt')}</span>}
        {thread.unverified && (
          <>
            {' '}
            <NotSignedMark inHistory={thread.createdBy !== null} />
          </>
        )}
      </h2>
      <ol className="message-list">
        {messages.map((message) => (
          <Message key={message.id} space={space} message={message} writable={security.writable} />
        ))}
      </ol>
      {writable && <ReplyForm space={space} threadId={threadId} />}
    </div>
  );
}

function Message({
  space,
  message,
  writable,
}: {
  space: SpaceView;
  message: MessageView;
  writable: boolean;
}) {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const { session } = useSignedIn();
  const nameOf = useNameOf();
  const listing = useDocuments(space.id);
  const transfers = useTransferActions();
  const run = useSpaceRun();
  const refresh = useRefreshSpace();
  const [showRevisions, setShowRevisions] = useState(false);
  const [editing, setEditing] = useState(false);
  const current = message.revisions[message.revisions.length - 1];
  const [draft, setDraft] = useState(current?.text ?? '');
  const edit = useMutation({
    mutationFn: () => run((api) => api.editMessage(message.threadId, message.id, draft)),
    onSuccess: async () => {
      setEditing(false);
      await refresh(space.id);
    },
  });
  // The author is the verified signer of the message, never the server's column.
  const own = message.authorId === session.user.id;
  const edited = message.revisions.length > 1;
  const earlier = message.revisions.slice(0, -1);
  const documents = new Map((listing.data?.documents ?? []).map((d) => [d.id, d]));

  return (
    <li className="message">
      <article aria-labelledby={`message-${message.id}-author`}>
        <header className="message-header">
          <span className="message-author" id={`message-${message.id}-author`}>
            {nameOf(message.authorId)}
          </span>
          <time className="item-meta" dateTime={message.createdAt}>
            {formatDateTime(message.createdAt, language)}
          </time>
          {edited && <span className="badge">{t('messages.edited')}</span>}
          {message.unverified && <NotSignedMark inHistory={message.authorId !== null} />}
        </header>
        {editing ? (
          <form
            className="form"
            onSubmit={(event) => {
              event.preventDefault();
              edit.mutate();
            }}
          >
            {edit.isError && <ErrorAlert error={edit.error} />}
            <Field id={`edit-${message.id}`} label={t('messages.editLabel')}>
              {(describedBy) => (
                <textarea
                  id={`edit-${message.id}`}
                  className="input"
                  rows={4}
                  value={draft}
                  required
                  autoFocus
                  aria-describedby={describedBy}
                  onChange={(event) => setDraft(event.target.value)}
                />
              )}
            </Field>
            <div className="form-actions">
              <button
                type="submit"
                className="button button-small"
                disabled={edit.isPending || draft.trim() === '' || draft === current?.text}
              >
                {t('messages.save')}
              </button>
              <button
                type="button"
                className="button button-small button-secondary"
                onClick={() => setEditing(false)}
              >
                {t('common.cancel')}
              </button>
            </div>
          </form>
        ) : (
          <p className="message-text">
            {current?.text ?? <span className="cannot-decrypt">{t('messages.cannotDecrypt')}</span>}
          </p>
        )}
        {message.attachments.length > 0 && (
          <ul className="attachment-list" aria-label={t('messages.attachments')}>
            {message.attachments.map((id) => {
              const document = documents.get(id);
              const name = document?.current.name ?? null;
              return (
                <li key={id}>
                  {document && name !== null && document.deletedAt === null ? (
                    <button
                      type="button"
                      className="link-button attachment"
                      onClick={() => transfers.startDownload(document.current)}
                    >
                      <span className="visually-hidden">{t('documents.download')}: </span>
                      {name}
                    </button>
                  ) : (
                    <span className="attachment attachment-gone">
                      {name ?? t('documents.cannotDecrypt')}
                      {document?.deletedAt ? ` (${t('messages.attachmentDeleted')})` : ''}
                    </span>
                  )}
                </li>
              );
            })}
          </ul>
        )}
        <div className="message-actions">
          {edited && (
            <button
              type="button"
              className="link-button"
              aria-expanded={showRevisions}
              onClick={() => setShowRevisions((shown) => !shown)}
            >
              {showRevisions
                ? t('messages.hideEarlier')
                : t('messages.showEarlier', { count: earlier.length })}
            </button>
          )}
          {own && writable && !message.unverified && !editing && (
            <button
              type="button"
              className="button button-small button-secondary"
              onClick={() => {
                setDraft(current?.text ?? '');
                edit.reset();
                setEditing(true);
              }}
            >
              {t('messages.edit')}
            </button>
          )}
        </div>
        {edited && showRevisions && (
          <ol className="revision-list">
            {earlier.map((revision) => (
              <li key={revision.revision}>
                <p className="item-meta">
                  {t('messages.revisionMeta', {
                    number: revision.revision,
                    time: formatDateTime(revision.createdAt, language),
                  })}
                </p>
                <p className="message-text">
                  {revision.text ?? (
                    <span className="cannot-decrypt">{t('messages.cannotDecrypt')}</span>
                  )}
                </p>
              </li>
            ))}
          </ol>
        )}
      </article>
    </li>
  );
}

function ReplyForm({ space, threadId }: { space: SpaceView; threadId: string }) {
  const { t } = useTranslation();
  const run = useSpaceRun();
  const refresh = useRefreshSpace();
  const [text, setText] = useState('');
  const [attachments, setAttachments] = useState<readonly string[]>([]);
  const [attaching, setAttaching] = useState(false);
  const reply = useMutation({
    mutationFn: () => run((api) => api.reply(threadId, text, attachments)),
    onSuccess: async () => {
      setText('');
      setAttachments([]);
      setAttaching(false);
      await refresh(space.id);
    },
  });
  return (
    <form
      className="form reply-form"
      onSubmit={(event) => {
        event.preventDefault();
        reply.mutate();
      }}
    >
      {reply.isError && <ErrorAlert error={reply.error} />}
      <Field id="reply-text" label={t('messages.reply')}>
        {(describedBy) => (
          <textarea
            id="reply-text"
            className="input"
            rows={4}
            value={text}
            required
            aria-describedby={describedBy}
            onChange={(event) => setText(event.target.value)}
          />
        )}
      </Field>
      {attaching ? (
        <AttachmentPicker
          space={space}
          idPrefix="reply-attach"
          chosen={attachments}
          onChange={setAttachments}
        />
      ) : null}
      <div className="form-actions">
        <button type="submit" className="button" disabled={reply.isPending || text.trim() === ''}>
          {reply.isPending ? t('messages.sending') : t('messages.send')}
        </button>
        {!attaching && (
          <button
            type="button"
            className="button button-secondary"
            onClick={() => setAttaching(true)}
          >
            {t('messages.addAttachments')}
          </button>
        )}
      </div>
    </form>
  );
}
