// Invite people (roles limited to what the signed-in role may invite) and manage open invitations.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { listInvitations, revokeInvitation, type Role } from '../../../shared/api';
import { useAccount, useSignedIn } from '../../account';
import { callApi } from '../../api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { Dialog } from '../../components/dialog';
import { ErrorAlert } from '../../components/error-alert';
import { Field } from '../../components/field';
import { Fingerprint } from '../../components/fingerprint';
import { useReauthenticated } from '../../components/reauth-dialog';
import { formatDateTime } from '../../i18n/format';
import { isLanguage, type Language } from '../../i18n';
import { LanguageSelect } from '../language-select';

/** Mirrors the server's rule (server/services/authorization.ts); the server enforces it. */
const invitableRoles: Record<Role, readonly Role[]> = {
  admin: ['team', 'admin', 'auditor', 'client'],
  team: ['client'],
  client: [],
  auditor: [],
};

interface Invitation {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly expiresAt: string;
}

export function InvitationsPage() {
  const { t, i18n } = useTranslation();
  const { session } = useSignedIn();
  const account = useAccount();
  const queryClient = useQueryClient();
  const language = i18n.resolvedLanguage ?? 'en';
  const roles = invitableRoles[session.user.role];
  const invitationsKey = ['invitations', session.user.id] as const;

  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>(roles[0] ?? 'client');
  const [inviteLanguage, setInviteLanguage] = useState<Language>(
    isLanguage(language) ? language : 'en',
  );
  const [sent, setSent] = useState<{ email: string; escrowFingerprint: string } | null>(null);
  const [revoking, setRevoking] = useState<Invitation | null>(null);
  // Inviting staff or an auditor needs a recent login: the server asks, the dialog answers.
  const { guard, dialog } = useReauthenticated();

  const open = useQuery({
    queryKey: invitationsKey,
    queryFn: ({ signal }) => callApi(listInvitations, {}, { signal }),
  });
  const invite = useMutation({
    mutationFn: (input: { email: string; role: Role; language: Language }) =>
      guard(() => account.run((api) => api.invite(input))),
    onSuccess: (result) => {
      setSent({ email: result.invitation.email, escrowFingerprint: result.escrowFingerprint });
      setEmail('');
      return queryClient.invalidateQueries({ queryKey: invitationsKey });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => callApi(revokeInvitation, { params: { id } }),
    onSuccess: () => {
      setRevoking(null);
      return queryClient.invalidateQueries({ queryKey: invitationsKey });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSent(null);
    invite.mutate({ email: email.trim(), role, language: inviteLanguage });
  };

  return (
    <div className="page">
      <title>{t('invite.documentTitle')}</title>
      <h1>{t('invite.title')}</h1>
      <p className="lead">
        {session.user.role === 'admin' ? t('invite.leadAdmin') : t('invite.leadTeam')}
      </p>
      <div className="two-columns">
        <form className="form card" onSubmit={submit} aria-labelledby="invite-form-title">
          <h2 id="invite-form-title">{t('invite.formTitle')}</h2>
          {sent && (
            <Alert tone="success" title={t('invite.sent', { email: sent.email })}>
              <p>{t('invite.sentHelp')}</p>
              <Fingerprint hex={sent.escrowFingerprint} />
            </Alert>
          )}
          {invite.isError && <ErrorAlert error={invite.error} />}
          <Field id="invite-email" label={t('form.email')}>
            {(describedBy) => (
              <input
                id="invite-email"
                className="input"
                type="email"
                value={email}
                onChange={(event) => setEmail(event.target.value)}
                required
                autoComplete="off"
                aria-describedby={describedBy}
              />
            )}
          </Field>
          <fieldset className="fieldset">
            <legend className="field-label">{t('invite.role')}</legend>
            {roles.map((option) => (
              <div className="radio-field" key={option}>
                <input
                  id={`invite-role-${option}`}
                  type="radio"
                  name="invite-role"
                  value={option}
                  checked={role === option}
                  onChange={() => setRole(option)}
                />
                <label htmlFor={`invite-role-${option}`}>
                  {t(`roles.${option}`)}
                  <span className="radio-hint">{t(`invite.roleHint.${option}`)}</span>
                </label>
              </div>
            ))}
          </fieldset>
          <LanguageSelect
            id="invite-language"
            label={t('invite.language')}
            hint={t('invite.languageHint')}
            value={inviteLanguage}
            onChange={setInviteLanguage}
          />
          <div className="form-actions">
            <button type="submit" className="button" disabled={invite.isPending}>
              {invite.isPending ? t('invite.sending') : t('invite.submit')}
            </button>
          </div>
        </form>

        <section className="card" aria-labelledby="open-invitations-title">
          <h2 id="open-invitations-title">{t('invite.openTitle')}</h2>
          {revoke.isError && <ErrorAlert error={revoke.error} />}
          {open.isPending ? (
            <Busy label={t('common.loading')} />
          ) : open.isError ? (
            <ErrorAlert error={open.error} />
          ) : open.data.invitations.length === 0 ? (
            <p className="empty-state">{t('invite.none')}</p>
          ) : (
            <ul className="item-list">
              {open.data.invitations.map((invitation) => (
                <li key={invitation.id} className="item">
                  <div>
                    <p className="item-title">{invitation.email}</p>
                    <p className="item-meta">
                      {t(`roles.${invitation.role}`)} ·{' '}
                      {t('invite.expires', {
                        time: formatDateTime(invitation.expiresAt, language),
                      })}
                    </p>
                  </div>
                  <button
                    type="button"
                    className="button button-small button-secondary"
                    aria-label={t('invite.revokeFor', { email: invitation.email })}
                    onClick={() => setRevoking(invitation)}
                  >
                    {t('invite.revoke')}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      {revoking && (
        <Dialog id="revoke" open title={t('invite.revokeTitle')} onClose={() => setRevoking(null)}>
          <p>{t('invite.revokeBody', { email: revoking.email })}</p>
          <div className="form-actions">
            <button
              type="button"
              className="button button-danger"
              disabled={revoke.isPending}
              onClick={() => revoke.mutate(revoking.id)}
            >
              {t('invite.revokeConfirm')}
            </button>
            <button
              type="button"
              className="button button-secondary"
              onClick={() => setRevoking(null)}
            >
              {t('common.cancel')}
            </button>
          </div>
        </Dialog>
      )}
      {dialog}
    </div>
  );
}
