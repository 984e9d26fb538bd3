/**
 * Exponential backoff with jitter, capped: attempt 1 waits about `baseSeconds`, each further failure doubles
 * it, never beyond `maxSeconds`. The wait is drawn between half and all of the exponential value ("equal
 * jitter"), so failures of many connections spread out instead of retrying in step.
 */
export function backoffSeconds(
  failures: number,
  baseSeconds: number,
  maxSeconds: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(maxSeconds, baseSeconds * 2 ** Math.max(0, failures - 1));
  return exp / 2 + random() * (exp / 2);
}
