import { Logger } from '@nestjs/common';
import { LockKeeper } from './lock-keeper';
import type { HeldLock } from './redis-lock';

const lockOf = (name: string): HeldLock => ({
  name,
  key: `p:lock:${name}`,
  owner: 'o',
  release: () => Promise.resolve(true),
  extend: () => Promise.resolve(true),
});

describe('LockKeeper: each lock outlives its own work', () => {
  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('renews every kept lock with its own TTL until it is dropped', async () => {
    const renewals: string[][] = [];
    const keeper = new LockKeeper(
      {
        extendMany: (entries) => {
          renewals.push(entries.map((e) => `${e.lock.name}:${e.ttlMs}`));
          return Promise.resolve([]);
        },
      },
      1000,
    );
    const a = lockOf('a');
    const b = lockOf('b');
    keeper.keep(a, 6000);
    keeper.keep(b, 25_000);
    await jest.advanceTimersByTimeAsync(1000);
    keeper.drop(a);
    await jest.advanceTimersByTimeAsync(1000);
    keeper.drop(b);
    await jest.advanceTimersByTimeAsync(5000);
    expect(renewals).toEqual([['a:6000', 'b:25000'], ['b:25000']]);
  });

  it('stops renewing a lock that is no longer ours', async () => {
    let calls = 0;
    const keeper = new LockKeeper(
      {
        extendMany: (entries) => {
          calls++;
          return Promise.resolve(entries.map((e) => e.lock));
        },
      },
      1000,
    );
    keeper.keep(lockOf('lost'), 6000);
    await jest.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(1);
  });
});
