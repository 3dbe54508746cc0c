// Due dates of document requests (YYYY-MM-DD calendar days): overdue state and today's date in the user's zone.

/** Today as YYYY-MM-DD in the browser's time zone. */
export function today(now: Date = new Date()): string {
  const month = String(now.getMonth() + 1).padStart(2, '0');
  const day = String(now.getDate()).padStart(2, '0');
  return `${now.getFullYear()}-${month}-${day}`;
}

/** Overdue: still open after its due day has passed (the due day itself is not overdue). */
export function isOverdue(dueDate: string, closedAt: string | null, todayDate: string): boolean {
  return closedAt === null && dueDate < todayDate;
}
