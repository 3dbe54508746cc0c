// i18next set-up: the supported languages, the choice from navigator.languages, and one instance for the app.
import i18next, { type i18n } from 'i18next';
import { initReactI18next } from 'react-i18next';
import { en } from './en';
import { nl } from './nl';

export const languages = ['en', 'nl'] as const;
export type Language = (typeof languages)[number];

export const resources = {
  en: { translation: en },
  nl: { translation: nl },
} as const;

export function isLanguage(value: string): value is Language {
  return (languages as readonly string[]).includes(value);
}

/**
 * The first supported language in the user's preference list (BCP 47 tags such as `nl-BE`), else
 * English. The choice lives in memory only: Kluis stores nothing in the browser.
 */
export function pickLanguage(preferred: readonly string[]): Language {
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split('-')[0] ?? '';
    if (isLanguage(primary)) return primary;
  }
  return 'en';
}

/** A ready (synchronously initialised) i18next instance bound to react-i18next. */
export function createI18n(language: Language): i18n {
  const instance = i18next.createInstance();
  void instance.use(initReactI18next).init({
    resources,
    lng: language,
    fallbackLng: 'en',
    supportedLngs: languages,
    // React escapes output itself.
    interpolation: { escapeValue: false },
    initAsync: false,
    returnNull: false,
  });
  return instance;
}
