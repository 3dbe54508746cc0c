// The visible language switch: one button per language, each named in its own language, state in aria-pressed.
import { useTranslation } from 'react-i18next';
import { languages, type Language } from '../i18n';

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  const current = i18n.resolvedLanguage;
  return (
    <div className="language-switch" role="group" aria-label={t('language.label')}>
      {languages.map((language: Language) => (
        <button
          key={language}
          type="button"
          lang={language}
          className="language-switch-option"
          aria-pressed={current === language}
          onClick={() => void i18n.changeLanguage(language)}
        >
          {t(`language.${language}`)}
        </button>
      ))}
    </div>
  );
}
