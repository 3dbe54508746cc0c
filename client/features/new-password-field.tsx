// A new-password field: show/hide, strength meter and the live rule checklist under it.
import { useTranslation } from 'react-i18next';
import type { PasswordCheck, PasswordRules } from '../../shared/accounts/password-rules';
import { Field } from '../components/field';
import { PasswordChecklist, type PasswordCheckContext } from '../components/password-checklist';
import { PasswordInput } from '../components/password-input';

export interface NewPasswordFieldProps {
  readonly id: string;
  readonly label?: string;
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly rules: PasswordRules;
  readonly context: PasswordCheckContext;
  readonly onCheck: (check: PasswordCheck | null) => void;
  /** Shown after a submit with a password that breaks a rule. */
  readonly error?: string | null;
}

export function NewPasswordField({
  id,
  label,
  value,
  onChange,
  rules,
  context,
  onCheck,
  error,
}: NewPasswordFieldProps) {
  const { t } = useTranslation();
  const checklistId = `${id}-checklist`;
  return (
    <Field id={id} label={label ?? t('form.newPassword')} error={error ?? undefined}>
      {(describedBy) => (
        <>
          <PasswordInput
            id={id}
            value={value}
            onChange={onChange}
            autoComplete="new-password"
            describedBy={[describedBy, checklistId].filter(Boolean).join(' ')}
            invalid={Boolean(error)}
          />
          <PasswordChecklist
            id={checklistId}
            password={value}
            context={context}
            rules={rules}
            onCheck={onCheck}
          />
        </>
      )}
    </Field>
  );
}
