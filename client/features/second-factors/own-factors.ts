// One's own second factors as the page loads them, and a fresh session after they change (the set-up requirement may be met or no longer met).
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { getSession, listSecondFactors, listTrustedDevices } from '../../../shared/api';
import { useAccount, useSignedIn } from '../../account';
import { callApi } from '../../api';

export const ownFactorsKey = (userId: string) => ['second-factors', userId] as const;
export const trustedDevicesKey = (userId: string) => ['trusted-devices', userId] as const;

export function useOwnFactors() {
  const { session } = useSignedIn();
  return useQuery({
    queryKey: ownFactorsKey(session.user.id),
    queryFn: ({ signal }) => callApi(listSecondFactors, {}, { signal }),
  });
}

export function useTrustedDevices() {
  const { session } = useSignedIn();
  return useQuery({
    queryKey: trustedDevicesKey(session.user.id),
    queryFn: ({ signal }) => callApi(listTrustedDevices, {}, { signal }),
  });
}

/** Reloads one's factors and asks the server for the session again (whether a factor is still missing). */
export function useFactorsChanged() {
  const { session, name } = useSignedIn();
  const account = useAccount();
  const queryClient = useQueryClient();
  return useCallback(async () => {
    await queryClient.invalidateQueries({ queryKey: ownFactorsKey(session.user.id) });
    const fresh = await callApi(getSession, {});
    if (fresh.secondFactorMissing !== session.secondFactorMissing)
      account.refresh({ session: fresh, name });
    return fresh;
  }, [account, name, queryClient, session.secondFactorMissing, session.user.id]);
}
