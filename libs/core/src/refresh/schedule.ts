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
