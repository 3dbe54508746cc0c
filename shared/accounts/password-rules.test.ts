// Password rules against the real bundled estimator and common-password list.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PASSWORD_RULES,
  KLUIS_CONTEXT_WORDS,
  PASSWORD_MAX_LENGTH,
  checkPassword,
  isPasswordExpired,
  passwordRulesSchema,
} from './password-rules';
import { languageDictionaries, strengthEstimator } from './password-strength';

const estimate = await strengthEstimator(['en', 'nl']);
const check = (password: string, rules = DEFAULT_PASSWORD_RULES, context = {}) => checkPassword(password, context, rules, estimate);

describe('password floors (always on)', () => {
  it('accepts a long unusual passphrase with the default rules', () => {
    const result = check('vliegende kroket onder de brug 1987!');
    expect(result.ok).toBe(true);
    expect(result.problems).toEqual([]);
    expect(result.score).toBeGreaterThanOrEqual(3);
  });

  it('requires 8 characters, counted in code points after NFKC', () => {
    expect(check('k7#Qz!p').problems).toContain('too_short');
    expect(check('🌷🌷🌷🌷🌷🌷🌷').problems).toContain('too_short'); // 7 code points, 14 UTF-16 units
    expect(check('🌷k7#Qz!pX').problems).not.toContain('too_short');
  });

  it('allows at least 64 characters and any Unicode, refuses beyond the maximum', () => {
    expect(PASSWORD_MAX_LENGTH).toBeGreaterThanOrEqual(64);
    expect(check('Ĳsberg-é-日本-'.repeat(6)).problems).not.toContain('too_long');
    expect(check('x'.repeat(PASSWORD_MAX_LENGTH + 1)).problems).toContain('too_long');
  });

  it.each(['password', 'Password1', 'qwertyuiop', 'iloveyou', 'P@ssw0rd', 'drowssap'])('refuses the common password %s', (pw) => {
    expect(check(pw).problems).toContain('common');
  });

  it('refuses passwords containing the e-mail address or its local part', () => {
    const context = { email: 'jan.devries@example.nl' };
    expect(check('jan.devries@example.nl', DEFAULT_PASSWORD_RULES, context).problems).toContain('contains_email');
    expect(check('xX-DeVries-2024-Xx', DEFAULT_PASSWORD_RULES, context).problems).toContain('contains_email');
    expect(check('onverwachte-kroket-42', DEFAULT_PASSWORD_RULES, context).problems).not.toContain('contains_email');
  });

  it('refuses passwords containing the user name', () => {
    const context = { name: 'Anaïs Verbruggen' };
    expect(check('verbruggen!Zomer77', DEFAULT_PASSWORD_RULES, context).problems).toContain('contains_name');
  });
});

describe('context words (ASVS 6.1.2)', () => {
  it('refuses passwords containing the organisation name, the product or a role name', () => {
    const context = { contextWords: ['Kantoor De Vries', ...KLUIS_CONTEXT_WORDS] };
    expect(check('devries-kantoor-2026!', DEFAULT_PASSWORD_RULES, context).problems).toContain('contains_context');
    expect(check('mijn-KLUIS-wachtwoord', DEFAULT_PASSWORD_RULES, context).problems).toContain('contains_context');
    expect(check('beheerder-zomer-77!', DEFAULT_PASSWORD_RULES, context).problems).toContain('contains_context');
    expect(check('vliegende kroket onder de brug 1987!', DEFAULT_PASSWORD_RULES, context).problems).not.toContain('contains_context');
  });
});

describe('organisation rules (each off by default)', () => {
  it('are all off by default', () => {
    expect(DEFAULT_PASSWORD_RULES).toEqual({ minLength: 8, minScore: 0, requireCharacterClasses: false, maxAgeDays: null });
  });

  it('raise the minimum length', () => {
    expect(check('kroket-onder-brug', { ...DEFAULT_PASSWORD_RULES, minLength: 20 }).problems).toContain('too_short');
  });

  it('require a minimum strength score', () => {
    const weakButNotCommon = 'kroketje1';
    expect(check(weakButNotCommon).ok).toBe(true);
    expect(check(weakButNotCommon, { ...DEFAULT_PASSWORD_RULES, minScore: 4 }).problems).toContain('too_weak');
  });

  it('require 3 of 4 character classes', () => {
    const rules = { ...DEFAULT_PASSWORD_RULES, requireCharacterClasses: true };
    expect(check('alleenkleineletters', rules).problems).toContain('needs_character_classes');
    expect(check('Kleine-letters-en-Hoofd', rules).problems).not.toContain('needs_character_classes');
  });

  it('expire passwords after the maximum age', () => {
    const changed = new Date('2026-01-01T00:00:00Z');
    expect(isPasswordExpired(changed, DEFAULT_PASSWORD_RULES, new Date('2036-01-01T00:00:00Z'))).toBe(false);
    const rules = { ...DEFAULT_PASSWORD_RULES, maxAgeDays: 90 };
    expect(isPasswordExpired(changed, rules, new Date('2026-03-31T00:00:00Z'))).toBe(false);
    expect(isPasswordExpired(changed, rules, new Date('2026-04-02T00:00:00Z'))).toBe(true);
  });

  it('cannot go below the floors', () => {
    expect(passwordRulesSchema.safeParse({ ...DEFAULT_PASSWORD_RULES, minLength: 7 }).success).toBe(false);
    expect(passwordRulesSchema.safeParse({ ...DEFAULT_PASSWORD_RULES, minScore: 5 }).success).toBe(false);
    expect(passwordRulesSchema.safeParse({ ...DEFAULT_PASSWORD_RULES, extra: true }).success).toBe(false);
  });
});

describe('the dictionaries of the user\'s language', () => {
  /** The Dutch lists' names (@zxcvbn-ts/language-nl-be); the English ones end in -en. */
  const DUTCH_LISTS = ['boysFirstnames', 'commonWords', 'girlsFirstnames', 'lastnames', 'wikipedia'];
  const dictionariesMatched = (result: ReturnType<typeof estimate>) =>
    result.sequence.flatMap((match) => ('dictionaryName' in match ? [String(match.dictionaryName)] : []));

  it('loads only the languages asked for', async () => {
    const loaded: string[] = [];
    const counting = {
      en: () => (loaded.push('en'), languageDictionaries.en()),
      nl: () => (loaded.push('nl'), languageDictionaries.nl()),
    };
    await strengthEstimator(['en'], counting);
    expect(loaded).toEqual(['en']);
    await strengthEstimator(['nl'], counting);
    expect(loaded).toEqual(['en', 'nl']);
  });

  it('matches Dutch words with the Dutch lists only for Dutch readers', async () => {
    const [en, nl] = await Promise.all([strengthEstimator(['en']), strengthEstimator(['nl'])]);
    // core 4.x reads the 3.x Dutch lists: their words are found.
    expect(dictionariesMatched(nl('vrijheidsstrijders', []))).toEqual(['commonWords', 'commonWords']);
    expect(dictionariesMatched(en('vrijheidsstrijders', [])).filter((name) => DUTCH_LISTS.includes(name))).toEqual([]);
    expect(dictionariesMatched(en('breakfast', []))).toContain('commonWords-en');
    expect(dictionariesMatched(nl('breakfast', [])).filter((name) => name.endsWith('-en'))).toEqual([]);
  });
});
