// Tidying what people type for a second factor, the backup-code file, and the browser names of trusted devices.
import { describe, expect, it } from 'vitest';
import { backupCodeSchema, sixDigitCode } from '../../../shared/api';
import {
  backupCodesFile,
  backupCodesFileName,
  describeUserAgent,
  formatBackupCode,
  groupSecret,
  normaliseBackupCode,
  normaliseOneTimeCode,
  secondsLeft,
} from './codes';

describe('normaliseOneTimeCode', () => {
  it.each([
    ['123456', '123456'],
    ['123 456', '123456'],
    [' 123-456 ', '123456'],
    ['12.34.56', '123456'],
    ['000000', '000000'],
  ])('reads %j as %j', (typed, expected) => {
    expect(normaliseOneTimeCode(typed)).toBe(expected);
    // What it returns is what the contract accepts.
    expect(sixDigitCode.safeParse(expected).success).toBe(true);
  });

  it.each(['', '12345', '1234567', '12345a', '１２３４５６', '123_456', 'abcdef'])(
    'refuses %j',
    (typed) => {
      expect(normaliseOneTimeCode(typed)).toBeNull();
    },
  );
});

describe('normaliseBackupCode', () => {
  it.each([
    ['ABCDE-FGHJK', 'ABCDEFGHJK'],
    ['abcde fghjk', 'ABCDEFGHJK'],
    ['  0123456789 ', '0123456789'],
    // Crockford base32: O reads as zero, I and L as one.
    ['OOOOO-IIIII', '0000011111'],
    ['lllll-ooooo', '1111100000'],
    ['MNPQR-STVWX', 'MNPQRSTVWX'],
  ])('reads %j as %j', (typed, expected) => {
    expect(normaliseBackupCode(typed)).toBe(expected);
    expect(backupCodeSchema.safeParse(expected).success).toBe(true);
  });

  it.each([
    '',
    'ABCDE-FGHJ',
    'ABCDE-FGHJKM',
    'ABCDE-FGHJU',
    'ABCDE_FGHJK',
    'ÄBCDE-FGHJK',
    '123456',
  ])('refuses %j', (typed) => {
    expect(normaliseBackupCode(typed)).toBeNull();
  });
});

describe('formatBackupCode', () => {
  it('shows two groups of five', () => {
    expect(formatBackupCode('ABCDEFGHJK')).toBe('ABCDE-FGHJK');
    expect(formatBackupCode('ABCDE-FGHJK')).toBe('ABCDE-FGHJK');
  });
  it('leaves anything else as it is', () => {
    expect(formatBackupCode('ABC')).toBe('ABC');
  });
});

describe('groupSecret', () => {
  it('splits a 32-character base32 key into eight groups of four', () => {
    expect(groupSecret('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP')).toEqual([
      'JBSW',
      'Y3DP',
      'EHPK',
      '3PXP',
      'JBSW',
      'Y3DP',
      'EHPK',
      '3PXP',
    ]);
  });
  it('keeps a short last group', () => {
    expect(groupSecret('ABCDEF')).toEqual(['ABCD', 'EF']);
    expect(groupSecret('')).toEqual([]);
  });
});

describe('backupCodesFile', () => {
  const codes = [
    'AAAAA-BBBBB',
    'CCCCCDDDDD',
    'EEEEE-FFFFF',
    'GGGGG-HHHHH',
    'JJJJJ-KKKKK',
    'MMMMM-NNNNN',
    'PPPPP-QQQQQ',
    'RRRRR-SSSSS',
    'TTTTT-VVVVV',
    'WWWWW-XXXXX',
  ];
  const text = {
    title: 'Kluis backup codes',
    account: 'Account',
    created: 'Made',
    keep: 'Keep this file somewhere safe.',
    use: 'Each code works once.',
  };

  it('holds every code once, numbered, with the account and date, in CRLF lines', () => {
    const file = backupCodesFile({
      codes,
      email: 'ann@example.org',
      organisation: 'Van Dijk & Co',
      createdAt: '3 March 2031 10:00',
      text,
    });
    expect(file).toBe(
      [
        'Kluis backup codes',
        '',
        'Account: ann@example.org (Van Dijk & Co)',
        'Made: 3 March 2031 10:00',
        '',
        ' 1. AAAAA-BBBBB',
        ' 2. CCCCC-DDDDD',
        ' 3. EEEEE-FFFFF',
        ' 4. GGGGG-HHHHH',
        ' 5. JJJJJ-KKKKK',
        ' 6. MMMMM-NNNNN',
        ' 7. PPPPP-QQQQQ',
        ' 8. RRRRR-SSSSS',
        ' 9. TTTTT-VVVVV',
        '10. WWWWW-XXXXX',
        '',
        'Keep this file somewhere safe.',
        'Each code works once.',
        '',
      ].join('\r\n'),
    );
    // Each code, read back from the file the way a person would type it, is accepted by the contract.
    const typedBack = [...file.matchAll(/^ ?\d+\. (\S+)$/gm)].map((match) =>
      normaliseBackupCode(match[1] ?? ''),
    );
    expect(typedBack).toEqual(codes.map((code) => code.replace('-', '')));
  });

  it('names the file after the organisation, safely', () => {
    expect(backupCodesFileName('Van Dijk & Co')).toBe('kluis-backup-codes-van-dijk-co.txt');
    expect(backupCodesFileName('Bakkerij Één')).toBe('kluis-backup-codes-bakkerij-één.txt');
    expect(backupCodesFileName('../../etc')).toBe('kluis-backup-codes-etc.txt');
    expect(backupCodesFileName('***')).toBe('kluis-backup-codes.txt');
  });
});

describe('describeUserAgent', () => {
  it.each([
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
      'Chrome',
      'Windows',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51',
      'Edge',
      'Windows',
    ],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0', 'Firefox', 'Linux'],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
      'Safari',
      'macOS',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
      'Safari',
      'iOS',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
      'Chrome',
      'iOS',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
      'Chrome',
      'Android',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0',
      'Opera',
      'Windows',
    ],
    [
      'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
      'Chrome',
      'ChromeOS',
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36',
      'Chrome',
      'Linux',
    ],
  ])('reads %s', (userAgent, browser, system) => {
    expect(describeUserAgent(userAgent)).toEqual({ browser, system });
  });

  it('knows nothing of a missing or odd User-Agent', () => {
    expect(describeUserAgent(null)).toEqual({ browser: null, system: null });
    expect(describeUserAgent('curl/8.5.0')).toEqual({ browser: null, system: null });
  });
});

describe('secondsLeft', () => {
  it('rounds up and stops at zero', () => {
    expect(secondsLeft(10_000, 0)).toBe(10);
    expect(secondsLeft(10_000, 9_001)).toBe(1);
    expect(secondsLeft(10_000, 10_000)).toBe(0);
    expect(secondsLeft(10_000, 20_000)).toBe(0);
  });
});
