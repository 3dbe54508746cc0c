// Every language has exactly the English keys, with the same interpolation placeholders; language choice.
import { describe, expect, it } from 'vitest';
import { errorCodes } from '../../shared/api';
import { clientErrorCodes } from '../api';
import { en } from './en';
import { languages, pickLanguage, resources } from './index';

function flatten(messages: object, prefix = ''): Map<string, unknown> {
  const entries = new Map<string, unknown>();
  for (const [key, value] of Object.entries(messages)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'object' && value !== null) {
      for (const [nested, leaf] of flatten(value as object, path)) entries.set(nested, leaf);
    } else {
      entries.set(path, value);
    }
  }
  return entries;
}

function placeholders(text: string): string[] {
  return [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((match) => match[1] ?? '').sort();
}

const english = flatten(en);

describe('messages', () => {
  it.each(languages)('%s has exactly the English keys', (language) => {
    const messages = flatten(resources[language].translation);
    expect([...messages.keys()].sort()).toEqual([...english.keys()].sort());
  });

  it.each(languages)(
    '%s has a non-empty string with the English placeholders for every key',
    (language) => {
      for (const [key, value] of flatten(resources[language].translation)) {
        expect(typeof value, key).toBe('string');
        expect((value as string).trim(), key).not.toBe('');
        expect(placeholders(value as string), key).toEqual(
          placeholders(english.get(key) as string),
        );
      }
    },
  );
});

describe('error messages', () => {
  it.each(languages)('%s has its own sentence for every code of the contract and the client', (language) => {
    const messages = flatten(resources[language].translation);
    const missing = [...errorCodes, ...clientErrorCodes].filter((code) => typeof messages.get(`errors.${code}`) !== 'string');
    expect(missing).toEqual([]);
  });
});

describe('pickLanguage', () => {
  it('takes the first supported language by primary subtag', () => {
    expect(pickLanguage(['fr-FR', 'nl-BE', 'en-US'])).toBe('nl');
    expect(pickLanguage(['EN-gb', 'nl'])).toBe('en');
  });

  it('falls back to English', () => {
    expect(pickLanguage([])).toBe('en');
    expect(pickLanguage(['de', 'fr'])).toBe('en');
  });
});
