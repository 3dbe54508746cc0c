// The strength meter and live rule checklist of a new password, computed by zxcvbn in the crypto worker.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import {
  KLUIS_CONTEXT_WORDS,
  PASSWORD_MIN_LENGTH_FLOOR,
  PASSWORD_RECOMMENDED_LENGTH,
  type PasswordCheck,
  type PasswordProblem,
  type PasswordRules,
} from '../../shared/accounts/password-rules';
import { useVaultSession } from '../vault';

export interface PasswordCheckContext {
  readonly email?: string | undefined;
  readonly name?: string | undefined;
  readonly organisationName?: string | undefined;
}

export interface PasswordChecklistProps {
  readonly id: string;
  readonly password: string;
  readonly context: PasswordCheckContext;
  readonly rules: PasswordRules;
  /** The latest check of the current password (null while it is being checked). */
  readonly onCheck: (check: PasswordCheck | null) => void;
}

const DEBOUNCE_MS = 120;

/** zxcvbn warnings we translate; other keys are not shown. */
const warnings = [
  'straightRow',
  'keyPattern',
  'simpleRepeat',
  'extendedRepeat',
  'sequences',
  'recentYears',
  'dates',
  'topTen',
  'topHundred',
  'common',
  'similarToCommon',
  'wordByItself',
  'namesByThemselves',
  'commonNames',
  'userInputs',
] as const;
type Warning = (typeof warnings)[number];
const isWarning = (key: string | null): key is Warning =>
  key !== null && (warnings as readonly string[]).includes(key);

export function PasswordChecklist({
  id,
  password,
  context,
  rules,
  onCheck,
}: PasswordChecklistProps) {
  const { t, i18n } = useTranslation();
  // zxcvbn weighs the words of the language on screen (only that language's dictionaries load).
  const language = i18n.resolvedLanguage === 'nl' ? 'nl' : 'en';
  const vault = useVaultSession();
  const [check, setCheck] = useState<PasswordCheck | null>(null);
  const { email, name, organisationName } = context;
  // Primitives as effect dependencies: a caller's new rules object with the same values re-checks nothing.
  const { minLength: ruleMinLength, minScore, requireCharacterClasses, maxAgeDays } = rules;

  useEffect(() => {
    let cancelled = false;
    onCheck(null);
    const timer = setTimeout(() => {
      const contextWords = [
        ...(organisationName ? [organisationName] : []),
        ...KLUIS_CONTEXT_WORDS,
      ];
      vault
        .run((api) =>
          api.checkPassword(
            password,
            { email, name, contextWords },
            { minLength: ruleMinLength, minScore, requireCharacterClasses, maxAgeDays },
            language,
          ),
        )
        .then((outcome) => {
          if (cancelled || !outcome.ok) return;
          setCheck(outcome.value);
          onCheck(outcome.value);
        })
        .catch(() => undefined);
    }, DEBOUNCE_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [
    vault,
    password,
    language,
    email,
    name,
    organisationName,
    ruleMinLength,
    minScore,
    requireCharacterClasses,
    maxAgeDays,
    onCheck,
  ]);

  const started = password.length > 0;
  const shown = started ? check : null;
  const has = (problem: PasswordProblem) => shown?.problems.includes(problem) ?? true;
  const minLength = Math.max(PASSWORD_MIN_LENGTH_FLOOR, rules.minLength);
  const items: { key: string; label: string; met: boolean }[] = [
    {
      key: 'length',
      label: t('password.rule.length', { min: minLength }),
      met: started && !has('too_short') && !has('too_long'),
    },
    { key: 'common', label: t('password.rule.common'), met: started && !has('common') },
  ];
  if (email)
    items.push({
      key: 'email',
      label: t('password.rule.email'),
      met: started && !has('contains_email'),
    });
  if (name)
    items.push({
      key: 'name',
      label: t('password.rule.name'),
      met: started && !has('contains_name'),
    });
  items.push({
    key: 'context',
    label: t('password.rule.context'),
    met: started && !has('contains_context'),
  });
  if (rules.minScore > 0) {
    items.push({
      key: 'score',
      label: t('password.rule.score', {
        level: t(`password.score.${rules.minScore as 1 | 2 | 3 | 4}`),
      }),
      met: started && !has('too_weak'),
    });
  }
  if (rules.requireCharacterClasses) {
    items.push({
      key: 'classes',
      label: t('password.rule.classes'),
      met: started && !has('needs_character_classes'),
    });
  }

  const score = shown?.score ?? 0;
  const unmet = items.filter((item) => !item.met).length;
  return (
    <div className="password-check" id={id}>
      <div className="meter" aria-hidden="true">
        {[0, 1, 2, 3].map((segment) => (
          <span
            key={segment}
            className={`meter-segment${started && shown && score > segment ? ` meter-on meter-score-${score}` : ''}`}
          />
        ))}
      </div>
      <p className="meter-label">
        {started && shown
          ? t('password.strength', { level: t(`password.score.${score}`) })
          : t('password.strengthEmpty')}
      </p>
      <ul className="checklist" aria-label={t('password.rulesLabel')}>
        {items.map((item) => (
          <li
            key={item.key}
            className={item.met ? 'check-met' : started ? 'check-unmet' : 'check-pending'}
          >
            <span className="check-marker" aria-hidden="true" />
            <span>{item.label}</span>
            <span className="visually-hidden">
              {item.met ? t('password.met') : t('password.notMet')}
            </span>
          </li>
        ))}
      </ul>
      {started && shown && isWarning(shown.warning) && (
        <p className="field-hint">{t(`password.warning.${shown.warning}`)}</p>
      )}
      {(!started || (shown && shown.length < PASSWORD_RECOMMENDED_LENGTH)) && (
        <p className="field-hint">
          {t('password.recommendation', { length: PASSWORD_RECOMMENDED_LENGTH })}
        </p>
      )}
      <p className="visually-hidden" aria-live="polite">
        {started && shown
          ? unmet === 0
            ? t('password.allMet')
            : t('password.someUnmet', { count: unmet })
          : ''}
      </p>
    </div>
  );
}
