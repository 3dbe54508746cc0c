// Mail templates: every message in both languages, complete, escaped, with links verbatim and nothing confidential.
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Language } from '../../shared/api';
import { invitationLink, samples } from './sample-templates';
import { formatMailDate, formatMailTime, renderMail, type MailTemplate } from './templates';

const languages: readonly Language[] = ['en', 'nl'];

const allSamples: readonly MailTemplate[] = Object.values(samples);

function hrefs(html: string): string[] {
  return [...html.matchAll(/href="([^"]*)"/g)].map((match) => (match[1] ?? '').replace(/&amp;/g, '&'));
}

describe('renderMail', () => {
  describe.each(languages)('in %s', (language) => {
    it.each(allSamples.map((template) => [template.kind, template] as const))('renders %s completely', (_kind, template) => {
      const mail = renderMail(language, template);
      for (const part of [mail.subject, mail.text, mail.html]) {
        expect(part).not.toMatch(/undefined|null|NaN|Invalid Date|\[object|\{\{|\}\}|\$\{/);
      }
      expect(mail.subject).toMatch(/^[^\n]{10,120}$/);
      expect(mail.subject).toContain('Jansen & de Vries Accountants');
      expect(mail.text).toContain('Jansen & de Vries Accountants');
      expect(mail.html).toContain('Jansen &amp; de Vries Accountants');
      expect(mail.html).toContain(`<html lang="${language}">`);
    });

    it.each(allSamples.map((template) => [template.kind, template] as const))('%s has no images, remote resources or tracking', (_kind, template) => {
      const { html } = renderMail(language, template);
      expect(html).not.toMatch(/<img|<script|<link|<iframe|<object|src=|url\(|@import/i);
      const link = 'link' in template ? template.link : undefined;
      expect(hrefs(html)).toEqual(link === undefined ? [] : [link]);
    });

    it('puts the invitation link verbatim, fragment included, on a line of its own and in the href', () => {
      const { text, html } = renderMail(language, samples.invitation);
      expect(text.split('\n')).toContain(invitationLink);
      expect(hrefs(html)).toEqual([invitationLink]);
      expect(html).toContain(invitationLink.replace(/&/g, '&amp;'));
    });

    it('shows times in Amsterdam time with the zone named', () => {
      expect(renderMail(language, samples.account_locked).text).toContain('15:05 (CEST)');
      expect(renderMail(language, samples.invitation).text).toContain('10:30 (CET)');
    });

    it('escapes the organisation name in HTML and keeps it on one line', () => {
      const template = { ...samples.new_message, organisationName: '<b>Evil</b> "Corp"\r\nBcc: x@evil.example' };
      const mail = renderMail(language, template);
      expect(mail.html).toContain('&lt;b&gt;Evil&lt;/b&gt; &quot;Corp&quot; Bcc: x@evil.example');
      expect(mail.html).not.toContain('<b>');
      expect(mail.subject).not.toMatch(/[\r\n]/);
      expect(mail.text).toContain('<b>Evil</b> "Corp" Bcc: x@evil.example');
    });

    it.each([
      ['a time that is not a date', { ...samples.password_changed, at: 'yesterday' }],
      ['a time without a date', { ...samples.password_changed, at: '13:05' }],
      ['a javascript: link', { ...samples.new_document, link: 'javascript:alert(1)' }],
      ['a relative link', { ...samples.new_document, link: '/documents' }],
      ['a link with a quote', { ...samples.new_document, link: 'https://kluis.example.com/"onmouseover="x' }],
      ['a link with a space', { ...samples.invitation, link: 'https://kluis.example.com/a b' }],
      ['no failures', { ...samples.account_locked, failures: 0 }],
      ['a fractional count', { ...samples.account_locked, failures: 2.5 }],
      ['an empty organisation name', { ...samples.password_changed, organisationName: ' \n ' }],
      ['a due date that does not exist', { ...samples.request_reminder, dueDate: '2025-02-30' }],
      ['a due date with a time', { ...samples.request_reminder, dueDate: '2025-01-17T00:00:00Z' }],
    ] satisfies [string, MailTemplate][])('refuses %s with a TypeError', (_case, template) => {
      expect(() => renderMail(language, template)).toThrow(TypeError);
    });
  });

  it.each(allSamples.map((template) => [template.kind, template] as const))('%s: Dutch and English differ, subject included', (_kind, template) => {
    const en = renderMail('en', template);
    const nl = renderMail('nl', template);
    expect(nl.subject).not.toBe(en.subject);
    expect(nl.text).not.toBe(en.text);
  });

  it('names the role in the recipient language', () => {
    const role = (language: Language, value: 'admin' | 'team' | 'client' | 'auditor') => renderMail(language, { ...samples.invitation, role: value }).text;
    expect(role('en', 'admin')).toContain('as an Administrator.');
    expect(role('en', 'team')).toContain('as a Team Member.');
    expect(role('en', 'client')).toContain('as a client.');
    expect(role('en', 'auditor')).toContain('as an auditor.');
    expect(role('nl', 'admin')).toContain('als beheerder deel');
    expect(role('nl', 'team')).toContain('als teamlid deel');
    expect(role('nl', 'client')).toContain('als klant deel');
    expect(role('nl', 'auditor')).toContain('als auditor deel');
  });

  it('counts failed attempts in words people use', () => {
    expect(renderMail('en', samples.account_locked).text).toContain('5 times in a row');
    expect(renderMail('nl', samples.account_locked).text).toContain('5 keer achter elkaar');
    expect(renderMail('en', { ...samples.account_locked, failures: 1 }).text).toContain('once in a row');
    expect(renderMail('nl', { ...samples.account_locked, failures: 1 }).text).toContain('één keer achter elkaar');
  });

  it('says what it must: the lock notice suspects a stranger, the second-step notice says the password was right', () => {
    expect(renderMail('en', samples.account_locked).text).toMatch(/Someone \(maybe you\)[\s\S]*until Tuesday, 15 July 2025[\s\S]*If this was not you, tell your administrator/);
    expect(renderMail('nl', samples.account_locked).text).toMatch(/Iemand \(misschien uzelf\)[\s\S]*tot dinsdag 15 juli 2025[\s\S]*laat het dan uw beheerder weten/);
    expect(renderMail('en', samples.login_second_step_abandoned).text).toMatch(/your correct password was used[\s\S]*second step[\s\S]*failed or was abandoned/);
    expect(renderMail('nl', samples.login_second_step_abandoned).text).toMatch(/uw juiste wachtwoord[\s\S]*tweede stap[\s\S]*mislukt of afgebroken/);
    // Wrong second-factor codes count on the same counter, and lock with the same e-mail.
    expect(renderMail('en', samples.account_locked).text).toContain('a wrong password or sign-in code');
    expect(renderMail('nl', samples.account_locked).text).toContain('een verkeerd wachtwoord of een verkeerde aanmeldcode');
    expect(renderMail('en', samples.trusted_devices_revoked).text).toMatch(/On Monday, 2 June 2025 at 10:15 \(CEST\), someone who manages your Kluis account[\s\S]*asks for your second factor again/);
    expect(renderMail('nl', samples.trusted_devices_revoked).text).toMatch(/Op maandag 2 juni 2025 om 10:15 \(CEST\) heeft iemand die uw Kluis-account[\s\S]*weer om uw tweede factor/);
  });

  it('tells an existing account holder of an invitation to their address, with a sign-in link and no invitation link', () => {
    const en = renderMail('en', samples.invitation_existing_account);
    expect(en.subject).toBe('Someone tried to invite you to Jansen & de Vries Accountants on Kluis');
    expect(en.text).toMatch(/On Wednesday, 15 January 2025 at 10:30 \(CET\), someone at Jansen & de Vries Accountants tried to invite[\s\S]*already have a Kluis account[\s\S]*no invitation link was sent/);
    expect(en.text.split('\n')).toContain('https://kluis.example.com/login');
    const nl = renderMail('nl', samples.invitation_existing_account);
    expect(nl.subject).toBe('Iemand probeerde u uit te nodigen voor Jansen & de Vries Accountants in Kluis');
    expect(nl.text).toMatch(/Op woensdag 15 januari 2025 om 10:30 \(CET\) heeft iemand[\s\S]*al een Kluis-account[\s\S]*geen uitnodigingslink verstuurd/);
    expect(nl.text).not.toContain('#');
  });
});

describe('second-factor messages', () => {
  it('puts the e-mail code on a line of its own in the text, large in the HTML, never in the subject', () => {
    for (const language of languages) {
      const mail = renderMail(language, samples.second_factor_code);
      expect(mail.text.split('\n')).toContain('042917');
      expect(mail.html).toMatch(/<p style="[^"]*font-size:28px[^"]*">042917<\/p>/);
      expect(mail.subject).not.toContain('042917');
    }
  });

  it('says what the code is for, how long it works, and what to do when it was not you', () => {
    expect(renderMail('en', samples.second_factor_code).text).toMatch(/code to sign in[\s\S]*works once, until Tuesday, 4 March 2025 at 09:40 \(CET\)[\s\S]*someone knows your password/);
    expect(renderMail('nl', samples.second_factor_code).text).toMatch(/code om aan te melden[\s\S]*één keer, tot dinsdag 4 maart 2025 om 09:40 \(CET\)[\s\S]*kent iemand uw wachtwoord/);
    const setupEn = renderMail('en', { ...samples.second_factor_code, purpose: 'setup' });
    expect(setupEn.subject).toBe('Your code to turn on e-mail codes in Kluis (Jansen & de Vries Accountants)');
    expect(setupEn.text).toMatch(/turn on sign-in codes by e-mail[\s\S]*If you did not ask for this/);
    expect(setupEn.text).not.toContain('someone knows your password');
    const setupNl = renderMail('nl', { ...samples.second_factor_code, purpose: 'setup' });
    expect(setupNl.subject).toBe('Uw code om e-mailcodes aan te zetten in Kluis (Jansen & de Vries Accountants)');
    expect(setupNl.text).toMatch(/codes per e-mail aan te zetten[\s\S]*Heeft u hier niet om gevraagd/);
  });

  it.each(['12345', '1234567', '12345a', '12 345', '', '１２３４５６'])('refuses a code that is not six digits (%j) with a TypeError', (code) => {
    for (const language of languages) expect(() => renderMail(language, { ...samples.second_factor_code, code })).toThrow(TypeError);
  });

  it.each([
    ['totp', 'removed your authenticator app from', 'uw authenticator-app verwijderd'],
    ['email', 'removed sign-in codes by e-mail from', 'aanmeldcodes per e-mail verwijderd'],
    ['passkey', 'removed a passkey or security key from', 'een passkey of beveiligingssleutel verwijderd'],
  ] as const)('names the removed factor (%s) in both languages', (factor, en, nl) => {
    expect(renderMail('en', { ...samples.second_factor_removed, factor }).text).toContain(en);
    expect(renderMail('nl', { ...samples.second_factor_removed, factor }).text).toContain(nl);
  });

  it('tells the person when and that someone who manages the account removed it', () => {
    expect(renderMail('en', samples.second_factor_removed).subject).toBe('A second factor was removed from your Kluis account at Jansen & de Vries Accountants');
    expect(renderMail('en', samples.second_factor_removed).text).toContain('On Tuesday, 4 March 2025 at 09:30 (CET), someone who manages your Kluis account');
    expect(renderMail('nl', samples.second_factor_removed).text).toContain('Op dinsdag 4 maart 2025 om 09:30 (CET) heeft iemand die uw Kluis-account');
  });
});

describe('what a template may carry', () => {
  /**
   * Every field of every template: organisation name, role, links, times and a count, a second-factor
   * code with its purpose, and the kind of a second factor; nothing about a person.
   */
  const allowedFields = ['kind', 'organisationName', 'role', 'link', 'expiresAt', 'failures', 'lockedUntil', 'at', 'dueDate', 'code', 'purpose', 'factor', 'use', 'actorRole', 'event', 'ip'];
  /** Only the Administrators' security notice names people, by e-mail address (they see those under People). */
  const adminOnlyFields = ['actorEmail', 'targetEmail'];
  type AllKeys<T> = T extends unknown ? keyof T : never;

  it('has no field for a person, a document or a message (checked by the type checker too)', () => {
    expectTypeOf<AllKeys<Exclude<MailTemplate, { kind: 'admin_security_event' }>>>().toEqualTypeOf<
      | 'kind'
      | 'organisationName'
      | 'role'
      | 'link'
      | 'expiresAt'
      | 'failures'
      | 'lockedUntil'
      | 'at'
      | 'dueDate'
      | 'code'
      | 'purpose'
      | 'factor'
      | 'use'
      | 'actorRole'
    >();
    for (const template of allSamples) {
      for (const field of Object.keys(template)) {
        if (template.kind === 'admin_security_event' && adminOnlyFields.includes(field)) continue;
        expect(allowedFields).toContain(field);
        expect(field === 'organisationName' || !/name|person|user|sender|inviter|title|subject|body|text|file/i.test(field)).toBe(true);
      }
    }
  });
});

describe('formatMailDate', () => {
  it.each([
    ['en', '2025-01-17', 'Friday, 17 January 2025'],
    ['nl', '2025-01-17', 'vrijdag 17 januari 2025'],
    ['nl', '2024-02-29', 'donderdag 29 februari 2024'],
  ] as const)('%s %s -> %s', (language, value, expected) => {
    expect(formatMailDate(language, value)).toBe(expected);
  });

  it('names the due date in the reminder, and nothing else about the request', () => {
    expect(renderMail('en', samples.request_reminder).text).toContain('due Friday, 17 January 2025');
    expect(renderMail('nl', samples.request_reminder).text).toContain('uiterlijk vrijdag 17 januari 2025');
  });
});

describe('formatMailTime', () => {
  it.each([
    ['en', '2025-01-15T13:05:00Z', 'Wednesday, 15 January 2025 at 14:05 (CET)'],
    ['nl', '2025-01-15T13:05:00Z', 'woensdag 15 januari 2025 om 14:05 (CET)'],
    ['en', '2025-07-15T13:05:00.000Z', 'Tuesday, 15 July 2025 at 15:05 (CEST)'],
    ['nl', '2025-07-15T15:05:00+02:00', 'dinsdag 15 juli 2025 om 15:05 (CEST)'],
    // The night the clocks go back: 02:30 happens twice, and the zone name tells which.
    ['nl', '2025-10-26T00:30:00Z', 'zondag 26 oktober 2025 om 02:30 (CEST)'],
    ['nl', '2025-10-26T01:30:00Z', 'zondag 26 oktober 2025 om 02:30 (CET)'],
  ] as const)('%s %s -> %s', (language, iso, expected) => {
    expect(formatMailTime(language, iso)).toBe(expected);
  });
});
