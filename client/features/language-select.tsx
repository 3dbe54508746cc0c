// The account language (e-mails and the portal): a select with each language named in itself.
import { useTranslation } from 'react-i18next';
import { Field } from '../components/field';
import { languages, type Language } from '../i18n';

export function LanguageSelect({
  id,
  value,
  onChange,
  label,
  hint,
}: {
  id: string;
  value: Language;
  onChange: (language: Language) => void;
  label?: string;
  hint?: string;
}) {
  const { t } = useTranslation();
  return (
    <Field id={id} label={label ?? t('form.language')} hint={hint ?? t('form.languageHint')}>
      {(describedBy) => (
        <select
          id={id}
          className="input"
          value={value}
          aria-describedby={describedBy}
          onChange={(event) => {
            const next = languages.find((language) => language === event.target.value);
            if (next) onChange(next);
          }}
        >
          {languages.map((language) => (
            <option key={language} value={language} lang={language}>
              {t(`language.${language}`)}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
