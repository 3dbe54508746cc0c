// Numbers of the documents and transfer screens: file sizes, speed, time left and percentages.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
const MIB = 1024 * 1024;

function locale(language: string): string {
  return language === 'nl' ? 'nl-NL' : 'en-GB';
}

/** A size in bytes as the user reads it: "0 B", "512 B", "1.5 KiB", "200 MiB" (binary units). */
export function formatBytes(bytes: number, language: string): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  const number = new Intl.NumberFormat(locale(language), {
    maximumFractionDigits: digits,
    minimumFractionDigits: 0,
  }).format(value);
  return `${number} ${UNITS[unit] ?? 'B'}`;
}

/** Speed in MiB/s with one decimal, e.g. "12.5 MiB/s". */
export function formatRate(bytesPerSecond: number, language: string): string {
  const number = new Intl.NumberFormat(locale(language), {
    maximumFractionDigits: 1,
    minimumFractionDigits: 1,
  }).format(Math.max(0, bytesPerSecond) / MIB);
  return `${number} MiB/s`;
}

/** Whole percent done, 0 to 100; an empty file counts as done. */
export function percentDone(doneBytes: number, totalBytes: number): number {
  if (totalBytes <= 0) return 100;
  return Math.min(100, Math.max(0, Math.floor((doneBytes / totalBytes) * 100)));
}

/** Seconds left at the current speed, rounded up; null while the speed is unknown or zero. */
export function secondsLeft(
  doneBytes: number,
  totalBytes: number,
  bytesPerSecond: number,
): number | null {
  if (!(bytesPerSecond > 0) || !Number.isFinite(bytesPerSecond)) return null;
  return Math.ceil(Math.max(0, totalBytes - doneBytes) / bytesPerSecond);
}

/** A duration split for a translated sentence: hours, minutes and seconds (hours only when non-zero). */
export function splitDuration(seconds: number): {
  hours: number;
  minutes: number;
  seconds: number;
} {
  const total = Math.max(0, Math.ceil(seconds));
  return {
    hours: Math.floor(total / 3600),
    minutes: Math.floor((total % 3600) / 60),
    seconds: total % 60,
  };
}
