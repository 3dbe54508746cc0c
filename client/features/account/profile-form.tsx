// The user's own profile (name, phone, address, notes), saved encrypted; the e-mail address stays readable.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useAccount, useSignedIn } from '../../account';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { Field } from '../../components/field';
import type { Profile } from '../../worker/space-types';
import { spaceKeys, useSpaceRun } from '../spaces/space-api';

export function ProfileForm() {
  const { t } = useTranslation();
  const { session } = useSignedIn();
  const run = useSpaceRun();
  const profile = useQuery({
    queryKey: spaceKeys.profile(session.user.id),
    queryFn: () => run((api) => api.getProfile()),
    staleTime: Infinity,
  });
  return (
    <section className="card" aria-labelledby="profile-title">
      <h2 id="profile-title">{t('profile.title')}</h2>
      <p className="card-help">{t('profile.help')}</p>
      {profile.isPending ? (
        <Busy label={t('common.loading')} />
      ) : profile.isError ? (
        <ErrorAlert error={profile.error} />
      ) : (
        <ProfileFields initial={profile.data} />
      )}
    </section>
  );
}

function ProfileFields({ initial }: { initial: Profile }) {
  const { t } = useTranslation();
  const { session } = useSignedIn();
  const account = useAccount();
  const run = useSpaceRun();
  const queryClient = useQueryClient();
  const [name, setName] = useState(initial.name);
  const [phone, setPhone] = useState(initial.phone ?? '');
  const [address, setAddress] = useState(initial.address ?? '');
  const [notes, setNotes] = useState(initial.notes ?? '');
  const save = useMutation({
    mutationFn: (next: Profile) => run((api) => api.updateProfile(next)).then(() => next),
    onSuccess: (next) => {
      queryClient.setQueryData(spaceKeys.profile(session.user.id), next);
      account.refresh({ session, name: next.name });
      return queryClient.invalidateQueries({ queryKey: ['people', session.user.id] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const optional = (value: string) => (value.trim() === '' ? undefined : value.trim());
    save.mutate({
      name: name.trim(),
      phone: optional(phone),
      address: optional(address),
      notes: optional(notes),
    });
  };
  return (
    <form className="form" onSubmit={submit}>
      {save.isSuccess && (
        <Alert tone="success">
          <p>{t('profile.saved')}</p>
        </Alert>
      )}
      {save.isError && <ErrorAlert error={save.error} />}
      <Field id="profile-name" label={t('profile.name')}>
        {(describedBy) => (
          <input
            id="profile-name"
            className="input"
            value={name}
            required
            maxLength={200}
            autoComplete="name"
            aria-describedby={describedBy}
            onChange={(event) => setName(event.target.value)}
          />
        )}
      </Field>
      <Field id="profile-phone" label={t('profile.phone')}>
        {(describedBy) => (
          <input
            id="profile-phone"
            className="input"
            type="tel"
            value={phone}
            maxLength={50}
            autoComplete="tel"
            aria-describedby={describedBy}
            onChange={(event) => setPhone(event.target.value)}
          />
        )}
      </Field>
      <Field id="profile-address" label={t('profile.address')}>
        {(describedBy) => (
          <textarea
            id="profile-address"
            className="input"
            rows={3}
            value={address}
            maxLength={500}
            autoComplete="street-address"
            aria-describedby={describedBy}
            onChange={(event) => setAddress(event.target.value)}
          />
        )}
      </Field>
      <Field id="profile-notes" label={t('profile.notes')} hint={t('profile.notesHint')}>
        {(describedBy) => (
          <textarea
            id="profile-notes"
            className="input"
            rows={4}
            value={notes}
            maxLength={5000}
            aria-describedby={describedBy}
            onChange={(event) => setNotes(event.target.value)}
          />
        )}
      </Field>
      <p className="card-help">{t('profile.emailNote', { email: session.user.email })}</p>
      <div className="form-actions">
        <button type="submit" className="button" disabled={save.isPending || name.trim() === ''}>
          {save.isPending ? t('common.saving') : t('profile.save')}
        </button>
      </div>
    </form>
  );
}
