// The decrypted space data of the page: react-query hooks over the worker's space operations, and people's names.
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useAccount, useSignedIn } from '../../account';
import { spaceKeys, useSpaceRun } from './space-api';

export function useSpaceDirectory() {
  const { session } = useSignedIn();
  const run = useSpaceRun();
  return useQuery({
    queryKey: spaceKeys.directory(session.user.id),
    queryFn: () => run((api) => api.listSpaces()),
  });
}

export function useDocuments(spaceId: string) {
  const { session } = useSignedIn();
  const run = useSpaceRun();
  return useQuery({
    queryKey: spaceKeys.documents(session.user.id, spaceId),
    queryFn: () => run((api) => api.listDocuments(spaceId)),
  });
}

export function useDocumentHistory(spaceId: string, documentId: string) {
  const { session } = useSignedIn();
  const run = useSpaceRun();
  return useQuery({
    queryKey: spaceKeys.history(session.user.id, spaceId, documentId),
    queryFn: () => run((api) => api.documentHistory(documentId)),
  });
}

export function useThreads(spaceId: string) {
  const { session } = useSignedIn();
  const run = useSpaceRun();
  return useQuery({
    queryKey: spaceKeys.threads(session.user.id, spaceId),
    queryFn: () => run((api) => api.listThreads(spaceId)),
  });
}

export function useThread(spaceId: string, threadId: string) {
  const { session } = useSignedIn();
  const run = useSpaceRun();
  return useQuery({
    queryKey: spaceKeys.thread(session.user.id, spaceId, threadId),
    queryFn: () => run((api) => api.openThread(threadId)),
  });
}

export function useRequests(spaceId: string) {
  const { session } = useSignedIn();
  const run = useSpaceRun();
  return useQuery({
    queryKey: spaceKeys.requests(session.user.id, spaceId),
    queryFn: () => run((api) => api.listRequests(spaceId)),
  });
}

/** True for Administrators and Team Members: they work in every client's space. */
export function useIsStaff(): boolean {
  const { session } = useSignedIn();
  return session.user.role === 'admin' || session.user.role === 'team';
}

/**
 * Who someone is, for the page: "You" for oneself; staff see the names of the people list (the
 * same query as the People page), clients see "Team" for anyone else (they cannot list people).
 * WARNING: pass authors from the worker's views only: they come from the verified signed history;
 * null (an item not in it) is named "Unknown (not in the signed history)".
 */
export function useNameOf(): (userId: string | null) => string {
  const { t } = useTranslation();
  const { session } = useSignedIn();
  const account = useAccount();
  const staff = useIsStaff();
  const people = useQuery({
    queryKey: ['people', session.user.id],
    queryFn: () => account.run((api) => api.listPeople()),
    enabled: staff,
  });
  const byId = new Map((people.data?.people ?? []).map((person) => [person.id, person]));
  return (userId: string | null) => {
    if (userId === null) return t('spaces.unknownAuthor');
    if (userId === session.user.id) return t('spaces.you');
    if (!staff) return t('spaces.team');
    const person = byId.get(userId);
    if (!person) return t('spaces.someone');
    return person.name ?? person.email;
  };
}
