// Password rules (OWASP ASVS 5.0 V6 floors + optional organisation rules), checked in the browser.
import { z } from 'zod';
import type { ZxcvbnResult } from '@zxcvbn-ts/core';

/** ASVS 6.2.1: at least 8 characters. Fixed; organisations can only raise it. */
export const PASSWORD_MIN_LENGTH_FLOOR = 8;
/** ASVS 6.2.9: at least 64 characters must be allowed. */
export const PASSWORD_MAX_LENGTH = 256;
/** What the strength meter recommends (ASVS 6.2.1 note, NIST SP 800-63B). */
export const PASSWORD_RECOMMENDED_LENGTH = 15;

/** Organisation rules. Every rule beyond the floors is OFF by default. */
export const passwordRulesSchema = z
  .object({
    /** Raise the minimum length above 8 (off = 8). */
    minLength: z.number().int().min(PASSWORD_MIN_LENGTH_FLOOR).max(64),
    /** Minimum zxcvbn score 0..4 (off = 0). */
    minScore: z.number().int().min(0).max(4),
    /** Require 3 of 4 character classes: upper, lower, digit, symbol (off = false). */
    requireCharacterClasses: z.boolean(),
    /** Force a new password after this many days (off = null). */
    maxAgeDays: z.number().int().min(1).max(3650).nullable(),
  })
  .strict()
  .meta({ id: 'PasswordRules' });

export type PasswordRules = z.infer<typeof passwordRulesSchema>;

export const DEFAULT_PASSWORD_RULES: PasswordRules = Object.freeze({
  minLength: PASSWORD_MIN_LENGTH_FLOOR,
  minScore: 0,
  requireCharacterClasses: false,
  maxAgeDays: null,
});

export type PasswordProblem =
  | 'too_short'
  | 'too_long'
  | 'common'
  | 'contains_email'
  | 'contains_name'
  | 'contains_context'
  | 'too_weak'
  | 'needs_character_classes';

export interface PasswordCheck {
  readonly ok: boolean;
  readonly problems: readonly PasswordProblem[];
  /** zxcvbn score 0..4 for the meter. */
  readonly score: 0 | 1 | 2 | 3 | 4;
  /** zxcvbn feedback keys (translated by the UI). */
  readonly warning: string | null;
  readonly suggestions: readonly string[];
  /** Length in Unicode code points after NFKC. */
  readonly length: number;
}

export interface PasswordContext {
  readonly email?: string;
  readonly name?: string;
  /** Words of this service a password must not contain (ASVS 6.1.2): organisation name, product, roles. */
  readonly contextWords?: readonly string[];
}

/** The words every Kluis password is checked against, besides the organisation's name (ASVS 6.1.2). */
export const KLUIS_CONTEXT_WORDS: readonly string[] = [
  'kluis',
  'administrator',
  'beheerder',
  'teamlid',
  'klant',
  'client',
  'auditor',
  'kantoor',
];

/** Something that estimates strength: zxcvbn-ts's `ZxcvbnFactory.check`. */
export type StrengthEstimator = (password: string, userInputs: string[]) => ZxcvbnResult;

function characterClasses(password: string): number {
  let classes = 0;
  if (/\p{Lu}/u.test(password)) classes++;
  if (/\p{Ll}/u.test(password)) classes++;
  if (/\p{Nd}/u.test(password)) classes++;
  if (/[^\p{L}\p{Nd}]/u.test(password)) classes++;
  return classes;
}

function personalTokens({ email, name }: PasswordContext): string[] {
  const tokens: string[] = [];
  if (email) {
    const lower = email.normalize('NFKC').toLowerCase();
    tokens.push(lower);
    const local = lower.split('@')[0] ?? '';
    tokens.push(local, ...local.split(/[._+-]+/));
  }
  if (name) tokens.push(...name.normalize('NFKC').toLowerCase().split(/\s+/));
  return tokens.filter((t) => t.length >= 3);
}

/**
 * Whether the whole password is a common or breached password (or a l33t/reversed/case variant of
 * one) from the bundled list (@zxcvbn-ts/language-common, ~49,000 entries).
 */
function isCommon(result: ZxcvbnResult, password: string): boolean {
  return result.sequence.some(
    (match) =>
      match.pattern === 'dictionary' &&
      'dictionaryName' in match &&
      match.dictionaryName === 'passwords-common' &&
      match.token.length === password.length,
  );
}

/**
 * Checks a password against the floors and the organisation's rules. Runs in the browser only: the
 * server never sees the password, so it cannot check it (SECURITY.md says what that means).
 */
export function checkPassword(
  rawPassword: string,
  context: PasswordContext,
  rules: PasswordRules,
  estimate: StrengthEstimator,
): PasswordCheck {
  const password = rawPassword.normalize('NFKC');
  const length = [...password].length;
  const problems: PasswordProblem[] = [];
  const minLength = Math.max(PASSWORD_MIN_LENGTH_FLOOR, rules.minLength);
  if (length < minLength) problems.push('too_short');
  if (length > PASSWORD_MAX_LENGTH) problems.push('too_long');

  const personal = [...personalTokens(context), ...(context.contextWords ?? []).map((w) => w.toLowerCase())];
  // zxcvbn is quadratic-ish in length; the first 100 characters decide the estimate.
  const result = estimate(password.slice(0, 100), personal);
  if (isCommon(result, password)) problems.push('common');

  const lower = password.toLowerCase();
  if (context.email && personalTokens({ email: context.email }).some((t) => lower.includes(t))) problems.push('contains_email');
  if (context.name && personalTokens({ name: context.name }).some((t) => lower.includes(t))) problems.push('contains_name');
  const contextTokens = (context.contextWords ?? [])
    .flatMap((word) => word.normalize('NFKC').toLowerCase().split(/[^\p{L}\p{Nd}]+/u))
    .filter((t) => t.length >= 4);
  if (contextTokens.some((t) => lower.includes(t))) problems.push('contains_context');
  if (result.score < rules.minScore) problems.push('too_weak');
  if (rules.requireCharacterClasses && characterClasses(password) < 3) problems.push('needs_character_classes');

  return {
    ok: problems.length === 0,
    problems,
    score: result.score,
    warning: result.feedback.warning,
    suggestions: result.feedback.suggestions,
    length,
  };
}

/** Whether a password set at `changedAt` has outlived the organisation's maximum age. */
export function isPasswordExpired(changedAt: Date, rules: PasswordRules, now: Date): boolean {
  if (rules.maxAgeDays === null) return false;
  return now.getTime() - changedAt.getTime() > rules.maxAgeDays * 86_400_000;
}
