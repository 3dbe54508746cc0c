// Organisation security settings (Administrators): lockout, password rules, sessions, auto-lock, second-factor roles, escrow
// resets (link lifetime, four eyes), allowlists.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { PASSWORD_MIN_LENGTH_FLOOR } from '../../../shared/accounts/password-rules';
import {
  getSettings,
  updateSettings,
  type OrganisationSettings,
  type Role,
} from '../../../shared/api';
import { useAccount } from '../../account';
import { callApi } from '../../api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { Field } from '../../components/field';
import { useReauthenticated } from '../../components/reauth-dialog';

const settingsKey = ['organisation-settings'] as const;
const allRoles: readonly Role[] = ['admin', 'team', 'auditor', 'client'];

export function SettingsPage() {
  const { t } = useTranslation();
  const settings = useQuery({
    queryKey: settingsKey,
    queryFn: ({ signal }) => callApi(getSettings, {}, { signal }),
  });
  return (
    <div className="page">
      <title>{t('settings.documentTitle')}</title>
      <h1>{t('settings.title')}</h1>
      <p className="lead">{t('settings.lead')}</p>
      {settings.isPending ? (
        <Busy label={t('common.loading')} />
      ) : settings.isError ? (
        <ErrorAlert error={settings.error} />
      ) : (
        <SettingsForm initial={settings.data} />
      )}
    </div>
  );
}

function NumberInput({
  id,
  value,
  min,
  max,
  onChange,
  describedBy,
  disabled,
}: {
  id: string;
  value: number;
  min: number;
  max: number;
  onChange: (value: number) => void;
  describedBy?: string | undefined;
  disabled?: boolean;
}) {
  return (
    <input
      id={id}
      className="input input-number"
      type="number"
      inputMode="numeric"
      min={min}
      max={max}
      step={1}
      required
      value={Number.isNaN(value) ? '' : value}
      disabled={disabled}
      aria-describedby={describedBy}
      onChange={(event) => onChange(event.target.valueAsNumber)}
    />
  );
}

function Section({
  id,
  title,
  children,
  note,
}: {
  id: string;
  title: string;
  children: ReactNode;
  note?: ReactNode;
}) {
  return (
    <section className="card settings-section" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {note}
      {children}
    </section>
  );
}

function Toggle({
  id,
  label,
  checked,
  onChange,
  hint,
}: {
  id: string;
  label: string;
  checked: boolean;
  onChange: (on: boolean) => void;
  hint?: string;
}) {
  return (
    <div className="checkbox-field">
      <input
        id={id}
        type="checkbox"
        checked={checked}
        onChange={(event) => onChange(event.target.checked)}
        aria-describedby={hint ? `${id}-hint` : undefined}
      />
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p className="field-hint checkbox-hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

const lines = (text: string) =>
  text
    .split(/[\n,]+/)
    .map((line) => line.trim())
    .filter(Boolean);

function SettingsForm({ initial }: { initial: OrganisationSettings }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const account = useAccount();
  const { guard, dialog } = useReauthenticated();
  const [draft, setDraft] = useState(initial);
  const [ipText, setIpText] = useState(initial.teamIpAllowlist.join('\n'));
  const [domainText, setDomainText] = useState(initial.invitationDomainAllowlist.join('\n'));
  const [saved, setSaved] = useState(false);
  const rules = draft.passwordRules;

  const save = useMutation({
    mutationFn: (body: OrganisationSettings) => guard(() => callApi(updateSettings, { body })),
    onSuccess: (result) => {
      queryClient.setQueryData(settingsKey, result);
      setDraft(result);
      setSaved(true);
      // The auto-lock time is part of the session; the next sign-in picks it up.
      if (
        account.state.kind === 'signed-in' &&
        account.state.session.autoLockMinutes !== result.autoLockMinutes
      ) {
        account.refresh({
          session: {
            ...account.state.session,
            autoLockMinutes: result.autoLockMinutes,
            passwordRules: result.passwordRules,
          },
          name: account.state.name,
        });
      }
    },
  });

  const update = (change: (current: OrganisationSettings) => OrganisationSettings) => {
    setSaved(false);
    setDraft(change);
  };
  const setRules = (change: Partial<OrganisationSettings['passwordRules']>) =>
    update((current) => ({ ...current, passwordRules: { ...current.passwordRules, ...change } }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({
      ...draft,
      teamIpAllowlist: lines(ipText),
      invitationDomainAllowlist: lines(domainText).map((d) => d.toLowerCase()),
    });
  };

  return (
    <>
      <form className="form settings-form" onSubmit={submit}>
        <Section
          id="lockout"
          title={t('settings.lockout.title')}
          note={<p className="card-help">{t('settings.lockout.note')}</p>}
        >
          <div className="field-row">
            <Field id="lockout-failures" label={t('settings.lockout.failures')}>
              {(describedBy) => (
                <NumberInput
                  id="lockout-failures"
                  value={draft.lockout.maxFailures}
                  min={1}
                  max={20}
                  describedBy={describedBy}
                  onChange={(maxFailures) =>
                    update((c) => ({ ...c, lockout: { ...c.lockout, maxFailures } }))
                  }
                />
              )}
            </Field>
            <Field id="lockout-duration" label={t('settings.lockout.duration')}>
              {(describedBy) => (
                <NumberInput
                  id="lockout-duration"
                  value={draft.lockout.durationMinutes}
                  min={1}
                  max={10_080}
                  describedBy={describedBy}
                  onChange={(durationMinutes) =>
                    update((c) => ({ ...c, lockout: { ...c.lockout, durationMinutes } }))
                  }
                />
              )}
            </Field>
          </div>
        </Section>

        <Section
          id="rules"
          title={t('settings.rules.title')}
          note={
            <Alert tone="info" live={false} title={t('settings.rules.adviceTitle')}>
              <p>{t('settings.rules.advice')}</p>
              <p>{t('settings.rules.adviceWhy')}</p>
              <p>{t('settings.rules.floors')}</p>
            </Alert>
          }
        >
          <Toggle
            id="rule-length"
            label={t('settings.rules.longer')}
            checked={rules.minLength > PASSWORD_MIN_LENGTH_FLOOR}
            onChange={(on) => setRules({ minLength: on ? 12 : PASSWORD_MIN_LENGTH_FLOOR })}
          />
          {rules.minLength > PASSWORD_MIN_LENGTH_FLOOR && (
            <Field id="rule-length-value" label={t('settings.rules.minLength')}>
              {(describedBy) => (
                <NumberInput
                  id="rule-length-value"
                  value={rules.minLength}
                  min={PASSWORD_MIN_LENGTH_FLOOR}
                  max={64}
                  describedBy={describedBy}
                  onChange={(minLength) => setRules({ minLength })}
                />
              )}
            </Field>
          )}
          <Toggle
            id="rule-score"
            label={t('settings.rules.score')}
            checked={rules.minScore > 0}
            onChange={(on) => setRules({ minScore: on ? 3 : 0 })}
          />
          {rules.minScore > 0 && (
            <Field id="rule-score-value" label={t('settings.rules.minScore')}>
              {(describedBy) => (
                <select
                  id="rule-score-value"
                  className="input"
                  value={rules.minScore}
                  aria-describedby={describedBy}
                  onChange={(event) => setRules({ minScore: Number(event.target.value) })}
                >
                  {([1, 2, 3, 4] as const).map((score) => (
                    <option key={score} value={score}>
                      {t(`password.score.${score}`)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          )}
          <Toggle
            id="rule-classes"
            label={t('settings.rules.classes')}
            checked={rules.requireCharacterClasses}
            onChange={(requireCharacterClasses) => setRules({ requireCharacterClasses })}
          />
          <Toggle
            id="rule-age"
            label={t('settings.rules.maxAge')}
            checked={rules.maxAgeDays !== null}
            onChange={(on) => setRules({ maxAgeDays: on ? 365 : null })}
          />
          {rules.maxAgeDays !== null && (
            <Field id="rule-age-value" label={t('settings.rules.maxAgeDays')}>
              {(describedBy) => (
                <NumberInput
                  id="rule-age-value"
                  value={rules.maxAgeDays ?? 365}
                  min={1}
                  max={3650}
                  describedBy={describedBy}
                  onChange={(maxAgeDays) => setRules({ maxAgeDays })}
                />
              )}
            </Field>
          )}
        </Section>

        <Section id="sessions" title={t('settings.sessions.title')}>
          <div className="field-row">
            <Field
              id="session-idle"
              label={t('settings.sessions.idle')}
              hint={t('settings.sessions.idleHint')}
            >
              {(describedBy) => (
                <NumberInput
                  id="session-idle"
                  value={draft.session.idleMinutes}
                  min={5}
                  max={1440}
                  describedBy={describedBy}
                  onChange={(idleMinutes) =>
                    update((c) => ({ ...c, session: { ...c.session, idleMinutes } }))
                  }
                />
              )}
            </Field>
            <Field
              id="session-absolute"
              label={t('settings.sessions.absolute')}
              hint={t('settings.sessions.absoluteHint')}
            >
              {(describedBy) => (
                <NumberInput
                  id="session-absolute"
                  value={draft.session.absoluteHours}
                  min={1}
                  max={720}
                  describedBy={describedBy}
                  onChange={(absoluteHours) =>
                    update((c) => ({ ...c, session: { ...c.session, absoluteHours } }))
                  }
                />
              )}
            </Field>
            <Field
              id="auto-lock"
              label={t('settings.sessions.autoLock')}
              hint={t('settings.sessions.autoLockHint')}
            >
              {(describedBy) => (
                <NumberInput
                  id="auto-lock"
                  value={draft.autoLockMinutes}
                  min={1}
                  max={240}
                  describedBy={describedBy}
                  onChange={(autoLockMinutes) => update((c) => ({ ...c, autoLockMinutes }))}
                />
              )}
            </Field>
          </div>
        </Section>

        <Section
          id="second-factor"
          title={t('settings.secondFactor.title')}
          note={
            <>
              <p className="card-help" id="second-factor-note">
                {t('settings.secondFactor.note')}
              </p>
              <p className="card-help">{t('settings.secondFactor.everyone')}</p>
            </>
          }
        >
          <fieldset className="fieldset" aria-describedby="second-factor-note">
            <legend className="field-label">{t('settings.secondFactor.roles')}</legend>
            {allRoles.map((role) => (
              <div className="checkbox-field" key={role}>
                <input
                  id={`second-factor-${role}`}
                  type="checkbox"
                  checked={draft.secondFactorRoles.includes(role)}
                  onChange={(event) =>
                    update((c) => ({
                      ...c,
                      secondFactorRoles: event.target.checked
                        ? allRoles.filter((r) => r === role || c.secondFactorRoles.includes(r))
                        : c.secondFactorRoles.filter((r) => r !== role),
                    }))
                  }
                />
                <label htmlFor={`second-factor-${role}`}>{t(`roles.${role}`)}</label>
              </div>
            ))}
          </fieldset>
        </Section>

        <Section
          id="resets"
          title={t('lifecycle.settings.title')}
          note={<p className="card-help">{t('lifecycle.settings.note')}</p>}
        >
          <Field
            id="reset-link-hours"
            label={t('lifecycle.settings.linkHours')}
            hint={t('lifecycle.settings.linkHoursHint')}
          >
            {(describedBy) => (
              <NumberInput
                id="reset-link-hours"
                value={draft.resetLinkHours}
                min={1}
                max={720}
                describedBy={describedBy}
                onChange={(resetLinkHours) => update((c) => ({ ...c, resetLinkHours }))}
              />
            )}
          </Field>
          <Toggle
            id="reset-four-eyes"
            label={t('lifecycle.settings.fourEyes')}
            hint={t('lifecycle.settings.fourEyesHint')}
            checked={draft.resetNeedsApproval}
            onChange={(resetNeedsApproval) => update((c) => ({ ...c, resetNeedsApproval }))}
          />
        </Section>

        <Section id="allowlists" title={t('settings.allowlists.title')}>
          <Field
            id="ip-allowlist"
            label={t('settings.allowlists.ip')}
            hint={t('settings.allowlists.ipHint')}
          >
            {(describedBy) => (
              <textarea
                id="ip-allowlist"
                className="input input-mono"
                rows={3}
                value={ipText}
                spellCheck={false}
                aria-describedby={describedBy}
                onChange={(event) => {
                  setSaved(false);
                  setIpText(event.target.value);
                }}
              />
            )}
          </Field>
          <Field
            id="domain-allowlist"
            label={t('settings.allowlists.domains')}
            hint={t('settings.allowlists.domainsHint')}
          >
            {(describedBy) => (
              <textarea
                id="domain-allowlist"
                className="input input-mono"
                rows={3}
                value={domainText}
                spellCheck={false}
                aria-describedby={describedBy}
                onChange={(event) => {
                  setSaved(false);
                  setDomainText(event.target.value);
                }}
              />
            )}
          </Field>
        </Section>

        <div className="form-actions form-actions-sticky">
          {saved && (
            <Alert tone="success">
              <p>{t('settings.saved')}</p>
            </Alert>
          )}
          {save.isError && <ErrorAlert error={save.error} />}
          <button type="submit" className="button" disabled={save.isPending}>
            {save.isPending ? t('common.saving') : t('settings.save')}
          </button>
        </div>
      </form>
      {dialog}
    </>
  );
}
