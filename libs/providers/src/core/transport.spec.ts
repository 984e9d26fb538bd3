import { OutboundRefusedError } from '../outbound/outbound-fetch';
import { fetchAnswer, MAX_ANSWER_BYTES, readCapped, signalsFor, TransportFailure } from './transport';

/** A body streamed in 64 KiB chunks, counting how many were pulled. */
function streamed(totalBytes: number, headers: Record<string, string> = {}) {
  let sent = 0;
  let pulls = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulls++;
      if (sent >= totalBytes) return controller.close();
      const n = Math.min(64 * 1024, totalBytes - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n).fill(0x61));
    },
  });
  return { response: new Response(body, { status: 200, headers }), pulls: () => pulls };
}

async function failureOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TransportFailure) return err.failure;
    throw err;
  }
  throw new Error('expected a TransportFailure');
}

describe('readCapped', () => {
  it('reads a body up to the cap', async () => {
    expect(await readCapped(streamed(MAX_ANSWER_BYTES).response)).toHaveLength(MAX_ANSWER_BYTES);
    expect(await readCapped(new Response(null))).toBe('');
  });

  it('stops reading one chunk past the cap', async () => {
    const { response, pulls } = streamed(64 * MAX_ANSWER_BYTES);
    await expect(readCapped(response)).rejects.toThrow();
    expect(pulls()).toBeLessThanOrEqual(MAX_ANSWER_BYTES / (64 * 1024) + 3);
  });

  it('refuses a declared length beyond the cap without reading', async () => {
    const { response, pulls } = streamed(10, { 'content-length': String(2 * MAX_ANSWER_BYTES) });
    await expect(readCapped(response)).rejects.toThrow();
    expect(pulls()).toBeLessThanOrEqual(1);
  });
});

describe('fetchAnswer', () => {
  const signals = () => signalsFor(5_000);

  it('an answer beyond 1 MiB is a provider_error answer_too_large, ambiguous', async () => {
    const failure = await failureOf(
      fetchAnswer(
        () => Promise.resolve(streamed(2 * MAX_ANSWER_BYTES).response),
        'https://x.test',
        {},
        signals(),
      ),
    );
    expect(failure).toEqual({
      class: 'provider_error',
      code: 'answer_too_large',
      httpStatus: 200,
      ambiguous: true,
      shape: `len>${MAX_ANSWER_BYTES}`,
    });
  });

  it('a refusal of the outbound rules (direct, or as the cause of fetch failed) is outbound_url_refused', async () => {
    const direct = await failureOf(
      fetchAnswer(
        () => Promise.reject(new OutboundRefusedError('forbidden_address')),
        'https://x.test',
        {},
        signals(),
      ),
    );
    const wrapped = await failureOf(
      fetchAnswer(
        () =>
          Promise.reject(
            new TypeError('fetch failed', { cause: new OutboundRefusedError('private_address') }),
          ),
        'https://x.test',
        {},
        signals(),
      ),
    );
    expect(direct).toEqual({
      class: 'integration_error',
      code: 'outbound_url_refused',
      subCode: 'forbidden_address',
      httpStatus: null,
      ambiguous: false,
    });
    expect(wrapped).toMatchObject({
      code: 'outbound_url_refused',
      subCode: 'private_address',
      ambiguous: false,
    });
  });

  it('sends every request with redirect: manual', async () => {
    let seen: RequestInit | undefined;
    await fetchAnswer(
      (_url, init) => {
        seen = init;
        return Promise.resolve(new Response('{}'));
      },
      'https://x.test',
      { redirect: 'follow' },
      signals(),
    );
    expect(seen?.redirect).toBe('manual');
  });
});
