// Overdue requests and the local calendar day.
import { describe, expect, it } from 'vitest';
import { isOverdue, today } from './request-dates';

describe('today', () => {
  it('writes the local calendar day with leading zeros', () => {
    expect(today(new Date(2025, 0, 5, 23, 59))).toBe('2025-01-05');
    expect(today(new Date(2025, 11, 31, 0, 0))).toBe('2025-12-31');
  });
});

describe('isOverdue', () => {
  it('is overdue only after the due day, and never once closed', () => {
    expect(isOverdue('2025-01-05', null, '2025-01-05')).toBe(false);
    expect(isOverdue('2025-01-05', null, '2025-01-06')).toBe(true);
    expect(isOverdue('2024-12-31', null, '2025-01-01')).toBe(true);
    expect(isOverdue('2025-01-05', '2025-01-07T10:00:00Z', '2025-01-09')).toBe(false);
  });
});
