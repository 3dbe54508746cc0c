// What the second sign-in step says after a refused answer: worded for the method that was used, the API's sentence otherwise.
import i18next from 'i18next';
import { beforeAll, describe, expect, it } from 'vitest';
import { en } from '../../i18n/en';
import { problemText } from './second-factor-step';

const i18n = i18next.createInstance();
beforeAll(async () => {
  await i18n.init({ lng: 'en', resources: { en: { translation: en } }, interpolation: { escapeValue: false } });
});

describe('problemText', () => {
  it.each([
    ['second_factor_invalid', 'totp', 'That code is not correct. Check that the clock of your phone is right and type the code your app shows now.'],
    ['second_factor_invalid', 'email', 'That code is not correct, or it has expired. Check the e-mail, or send a new code.'],
    ['second_factor_invalid', 'backup', 'That backup code is not correct. Check it and try again.'],
    ['second_factor_reused', 'totp', 'That code was already used. Wait for the next code in your app.'],
    ['second_factor_reused', 'email', 'That code was already used. Send a new code.'],
    ['second_factor_reused', 'backup', 'That backup code was already used: each code works only once. Use another one.'],
    ['validation_failed', 'totp', 'That is not a code in the right form. Check it and try again.'],
  ] as const)('%s after %s', (problem, method, sentence) => {
    expect(problemText(i18n.t, problem, method)).toBe(sentence);
  });

  it.each([
    ['passkey_rejected', 'passkey'],
    ['passkey_counter_regressed', 'passkey'],
    ['second_factor_unavailable', 'totp'],
    ['second_factor_invalid', 'passkey'],
    ['second_factor_invalid', null],
  ] as const)('%s after %s: the error message of the code', (problem, method) => {
    expect(problemText(i18n.t, problem, method)).toBe(en.errors[problem]);
  });
});
