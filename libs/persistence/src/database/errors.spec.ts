import { DatabaseUnavailable, ForeignKeyViolation, UniqueViolation, translateError } from './errors';

const pgError = (fields: Record<string, unknown>) => Object.assign(new Error('driver says no'), fields);

describe('translateError', () => {
  it('names the constraint of a unique or foreign-key violation, and keeps no value of the row', () => {
    const unique = translateError(
      pgError({
        code: '23505',
        constraint: 'integrations_key_uq',
        table: 'integrations',
        detail: 'Key (key)=(secret-ish) already exists.',
      }),
    );
    expect(unique).toBeInstanceOf(UniqueViolation);
    expect(unique).toMatchObject({ constraint: 'integrations_key_uq', table: 'integrations' });
    expect(JSON.stringify(unique) + String(unique)).not.toContain('secret-ish');

    const fk = translateError(pgError({ code: '23503', constraint: 'connections_integration_id_fkey' }));
    expect(fk).toBeInstanceOf(ForeignKeyViolation);
    expect(fk).toMatchObject({ constraint: 'connections_integration_id_fkey' });
  });

  it.each([
    ['connection refused', { code: 'ECONNREFUSED' }],
    ['connection reset', { code: 'ECONNRESET' }],
    ['host unreachable', { code: 'EHOSTUNREACH' }],
    ['admin shutdown', { code: '57P01' }],
    ['crash shutdown', { code: '57P02' }],
    ['cannot connect now', { code: '57P03' }],
    ['too many connections', { code: '53300' }],
    ['connection failure (class 08)', { code: '08006' }],
    ['terminated', { message: 'Connection terminated unexpectedly' }],
    ['connect timeout', { message: 'Connection terminated due to connection timeout' }],
    ['client connect timeout', { message: 'timeout expired' }],
    ['pool checkout timeout', { message: 'timeout exceeded when trying to connect' }],
    ['broken client', { message: 'Client has encountered a connection error and is not queryable' }],
    ['pool ended', { message: 'Cannot use a pool after calling end on the pool' }],
  ])('%s is DatabaseUnavailable', (_what, fields) => {
    const err = pgError(fields);
    const translated = translateError(err);
    expect(translated).toBeInstanceOf(DatabaseUnavailable);
    expect((translated as Error).cause).toBe(err);
  });

  it('reads errors by shape, so a socket error from another realm is recognised', () => {
    expect(translateError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' })).toBeInstanceOf(
      DatabaseUnavailable,
    );
  });

  it('leaves every other error as it is (a bug in a statement stays visible)', () => {
    for (const err of [
      pgError({ code: '42601' }),
      pgError({ code: '22P02' }),
      pgError({ code: '23514' }),
      new Error('something else'),
      'not an error',
    ]) {
      expect(translateError(err)).toBe(err);
    }
    const already = new DatabaseUnavailable('x');
    expect(translateError(already)).toBe(already);
  });
});
