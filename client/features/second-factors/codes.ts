// What a person types or keeps for a second factor, made tidy in the browser: one-time codes, backup codes, the TOTP key, the backup-code file.

/** The six digits of a TOTP or e-mail code as typed or pasted ("123 456", "123-456"); null when it cannot be one. */
export function normaliseOneTimeCode(typed: string): string | null {
  const digits = typed.replace(/[\s\-.]/g, '');
  return /^[0-9]{6}$/.test(digits) ? digits : null;
}

/**
 * A backup code as the server expects it (shared/api/second-factors.ts backupCodeSchema): ten
 * characters of Crockford's base32 alphabet, upper case, without the dash. The letters Crockford
 * leaves out read as the digits they look like (O -> 0, I and L -> 1), as that alphabet intends.
 * Null when what was typed cannot be a backup code.
 */
export function normaliseBackupCode(typed: string): string | null {
  const code = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return /^[0-9A-HJKMNP-TV-Z]{10}$/.test(code) ? code : null;
}

/** A backup code as it is shown and printed: two groups of five ("ABCDE-FGHJK"). */
export function formatBackupCode(code: string): string {
  const plain = code.replace(/-/g, '');
  return plain.length === 10 ? `${plain.slice(0, 5)}-${plain.slice(5)}` : code;
}

/** The TOTP key (base32) in groups of four, to read out and type without losing one's place. */
export function groupSecret(secret: string): string[] {
  return secret.match(/.{1,4}/g) ?? [];
}

export interface BackupCodesFileText {
  readonly title: string;
  readonly account: string;
  readonly created: string;
  readonly keep: string;
  readonly use: string;
}

/**
 * The text file of a new set of backup codes: who they are for, when they were made, the ten codes
 * numbered, and how to use them. Lines end in CRLF so the file reads the same in any editor.
 * WARNING: made in memory for a download; the codes are never stored by the browser.
 */
export function backupCodesFile(input: {
  readonly codes: readonly string[];
  readonly email: string;
  readonly organisation: string;
  /** Already formatted for the reader's language. */
  readonly createdAt: string;
  readonly text: BackupCodesFileText;
}): string {
  const { text } = input;
  const lines = [
    text.title,
    '',
    `${text.account}: ${input.email} (${input.organisation})`,
    `${text.created}: ${input.createdAt}`,
    '',
    ...input.codes.map(
      (code, index) => `${String(index + 1).padStart(2, ' ')}. ${formatBackupCode(code)}`,
    ),
    '',
    text.keep,
    text.use,
    '',
  ];
  return lines.join('\r\n');
}

/** The download's file name: the organisation's name made safe for a file system. */
export function backupCodesFileName(organisation: string): string {
  const slug = organisation
    .toLowerCase()
    .replace(/[^\p{L}\p{Nd}]+/gu, '-')
    .replace(/^-|-$/g, '');
  return `kluis-backup-codes${slug ? `-${slug}` : ''}.txt`;
}

export type BrowserName = 'Edge' | 'Opera' | 'Firefox' | 'Chrome' | 'Safari';
export type SystemName = 'Windows' | 'macOS' | 'iOS' | 'Android' | 'ChromeOS' | 'Linux';

/** The browser and system of a User-Agent string, for the trusted-devices list ("Firefox on Windows"); null parts when unknown. */
export function describeUserAgent(userAgent: string | null): {
  browser: BrowserName | null;
  system: SystemName | null;
} {
  if (!userAgent) return { browser: null, system: null };
  // Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
  const browser: BrowserName | null = /\bEdg(e|A|iOS)?\//.test(userAgent)
    ? 'Edge'
    : /\b(OPR|Opera)\//.test(userAgent)
      ? 'Opera'
      : /\b(Firefox|FxiOS)\//.test(userAgent)
        ? 'Firefox'
        : /\b(Chrome|HeadlessChrome|Chromium|CriOS)\//.test(userAgent)
          ? 'Chrome'
          : /\bVersion\/[\d.]+.*\bSafari\//.test(userAgent)
            ? 'Safari'
            : null;
  const system: SystemName | null = /\b(iPhone|iPad|iPod)\b/.test(userAgent)
    ? 'iOS'
    : /\bAndroid\b/.test(userAgent)
      ? 'Android'
      : /\bCrOS\b/.test(userAgent)
        ? 'ChromeOS'
        : /\bWindows\b/.test(userAgent)
          ? 'Windows'
          : /\bMac OS X\b|\bMacintosh\b/.test(userAgent)
            ? 'macOS'
            : /\bLinux\b|\bX11\b/.test(userAgent)
              ? 'Linux'
              : null;
  return { browser, system };
}

/** Seconds left until `until` (epoch ms), rounded up; 0 once it has passed. */
export function secondsLeft(until: number, now: number): number {
  return Math.max(0, Math.ceil((until - now) / 1000));
}
