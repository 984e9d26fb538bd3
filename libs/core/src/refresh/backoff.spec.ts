import { backoffSeconds } from './backoff';

describe('backoffSeconds', () => {
  it('doubles with each failure between half and all of the exponential value', () => {
    expect(backoffSeconds(1, 30, 3600, () => 0)).toBe(15);
    expect(backoffSeconds(1, 30, 3600, () => 1)).toBe(30);
    expect(backoffSeconds(2, 30, 3600, () => 1)).toBe(60);
    expect(backoffSeconds(4, 30, 3600, () => 0.5)).toBe(180);
  });

  it('is capped', () => {
    expect(backoffSeconds(30, 30, 3600, () => 1)).toBe(3600);
    expect(backoffSeconds(1000, 30, 3600, () => 0)).toBe(1800);
  });
});
