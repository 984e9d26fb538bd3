/**
 * When a connection should next be refreshed: expiry − margin − jitter, never in the past. The jitter (up
 * to a tenth of the margin, at most 60 s) spreads connections imported together so they do not all fall due
 * in the same second.
 */
export function nextRefreshAt(
  expiresAt: Date | null,
  marginSeconds: number,
  now: Date = new Date(),
  random: () => number = Math.random,
): Date {
  if (expiresAt === null) return now;
  const jitterMs = random() * Math.min(marginSeconds * 100, 60_000);
  const due = expiresAt.getTime() - marginSeconds * 1000 - jitterMs;
  return new Date(Math.max(due, now.getTime()));
}

/**
 * How early a scheduled refresh may run before its due time: up to the sweep's lookahead, but never more than
 * a tenth of what is left of the access token's life, so short-lived tokens are not refreshed again and
 * again. Early work lets a burst of connections due together spread over the window before they are due.
 */
export function earlyWindowMs(
  expiresAt: Date | null,
  lookaheadSeconds: number,
  now: number = Date.now(),
): number {
  if (expiresAt === null) return 0;
  return Math.max(0, Math.min(lookaheadSeconds * 1000, (expiresAt.getTime() - now) / 10));
}
