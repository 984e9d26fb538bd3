import { Coalescer } from './coalescer';

describe('Coalescer (group commit of refresh writes)', () => {
  it('writes what is submitted together in one call, and what arrives during a write in the next one', async () => {
    const calls: number[][] = [];
    let release: () => void = () => undefined;
    const c = new Coalescer<number, number>(async (items) => {
      calls.push(items);
      if (calls.length === 1) await new Promise<void>((r) => (release = r));
      return items.map((i) => i * 10);
    });
    const first = [1, 2, 3].map((i) => c.submit(i));
    while (calls.length === 0) await new Promise((r) => setImmediate(r));
    const second = [4, 5].map((i) => c.submit(i));
    release();
    expect(await Promise.all([...first, ...second])).toEqual([10, 20, 30, 40, 50]);
    expect(calls).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('one poisoned item fails alone: when a grouped write fails, each item is written on its own', async () => {
    const c = new Coalescer<string, string>((items) =>
      items.includes('deleted') ? Promise.reject(new Error('foreign key')) : Promise.resolve(items),
    );
    const results = await Promise.allSettled(['a', 'deleted', 'b'].map((i) => c.submit(i)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('splits at the maximum batch size', async () => {
    const sizes: number[] = [];
    const c = new Coalescer<number, null>((items) => {
      sizes.push(items.length);
      return Promise.resolve(items.map(() => null));
    }, 2);
    await Promise.all([1, 2, 3, 4, 5].map((i) => c.submit(i)));
    expect(sizes).toEqual([2, 2, 1]);
  });
});
