// Sizes, speeds, percentages and time left as the documents and transfer screens show them.
import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatRate,
  percentDone,
  secondsLeft,
  splitDuration,
} from './transfer-format';

describe('formatBytes', () => {
  it('uses binary units with at most one decimal', () => {
    expect(formatBytes(0, 'en')).toBe('0 B');
    expect(formatBytes(512, 'en')).toBe('512 B');
    expect(formatBytes(1536, 'en')).toBe('1.5 KiB');
    expect(formatBytes(200 * 1024 * 1024, 'en')).toBe('200 MiB');
    expect(formatBytes(1024 ** 3, 'en')).toBe('1 GiB');
  });

  it('writes a decimal comma in Dutch', () => {
    expect(formatBytes(1536, 'nl')).toBe('1,5 KiB');
  });
});

describe('formatRate', () => {
  it('shows MiB/s with one decimal', () => {
    expect(formatRate(12.5 * 1024 * 1024, 'en')).toBe('12.5 MiB/s');
    expect(formatRate(0, 'nl')).toBe('0,0 MiB/s');
  });
});

describe('percentDone', () => {
  it('floors, clamps, and counts an empty file as done', () => {
    expect(percentDone(0, 100)).toBe(0);
    expect(percentDone(999, 1000)).toBe(99);
    expect(percentDone(1000, 1000)).toBe(100);
    expect(percentDone(2000, 1000)).toBe(100);
    expect(percentDone(0, 0)).toBe(100);
  });
});

describe('secondsLeft', () => {
  it('divides what is left by the speed, rounded up', () => {
    expect(secondsLeft(0, 100, 30)).toBe(4);
    expect(secondsLeft(100, 100, 30)).toBe(0);
  });

  it('is unknown without a speed', () => {
    expect(secondsLeft(0, 100, 0)).toBeNull();
    expect(secondsLeft(0, 100, Number.NaN)).toBeNull();
    expect(secondsLeft(0, 100, Number.POSITIVE_INFINITY)).toBeNull();
  });
});

describe('splitDuration', () => {
  it('splits into hours, minutes and seconds', () => {
    expect(splitDuration(0)).toEqual({ hours: 0, minutes: 0, seconds: 0 });
    expect(splitDuration(65.2)).toEqual({ hours: 0, minutes: 1, seconds: 6 });
    expect(splitDuration(3 * 3600 + 5)).toEqual({ hours: 3, minutes: 0, seconds: 5 });
  });
});
