// codeText and errorText: every code reads its own translated sentence; anything else the generic one.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api';
import { createI18n } from '../i18n';
import { codeText, errorText } from './error-alert';

const en = createI18n('en').t;
const nl = createI18n('nl').t;

describe('codeText', () => {
  // The two codes the hand-kept list used to miss, and a server-only one it never had.
  it.each([
    ['file_changed', 'The file changed or could not be read while it was being uploaded. Upload it again.'],
    ['no_escrow_access', 'Your account cannot open client spaces yet: an Administrator must first grant you the organisation key (People).'],
    ['upload_busy', 'Part of this upload is still being stored. Wait a moment and try again.'],
  ])('reads %s in English', (code, text) => {
    expect(codeText(en, code)).toBe(text);
  });

  it('reads a client code in Dutch', () => {
    expect(codeText(nl, 'file_changed')).toBe('Het bestand is gewijzigd of kon niet worden gelezen tijdens het uploaden. Upload het opnieuw.');
  });

  it('reads an unknown code, or a message key that is no code, as the generic sentence naming it', () => {
    expect(codeText(en, 'unexpected')).toBe('Something went wrong (unexpected). Please try again.');
    expect(codeText(en, 'pinMismatchTitle')).toBe('Something went wrong (pinMismatchTitle). Please try again.');
  });
});

describe('errorText', () => {
  it('reads an ApiError by its code, unless the context overrides it', () => {
    const error = new ApiError({ status: 0, code: 'no_escrow_access', message: 'not the text shown' });
    expect(errorText(en, error)).toBe('Your account cannot open client spaces yet: an Administrator must first grant you the organisation key (People).');
    expect(errorText(en, error, { no_escrow_access: 'Ask an Administrator.' })).toBe('Ask an Administrator.');
  });

  it('reads anything that is not an ApiError as unexpected', () => {
    expect(errorText(en, new Error('boom'))).toBe('Something went wrong (unexpected). Please try again.');
  });
});
