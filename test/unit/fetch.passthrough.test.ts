import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { getPayment, isX402Error, wrapFetch } from '../../src/index.js';
import { recordRequest, useMswServer, type SeenRequest } from '../support/msw.js';
import { countingSigner } from '../support/signers.js';
import { rejectionOf } from '../support/secrets.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/resource';

/** An inner fetch that remembers the exact Response objects it returned. */
function recordingFetch() {
  const returned: Response[] = [];
  const inner = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const res = await fetch(input, init);
    returned.push(res);
    return res;
  }) as typeof fetch;
  return { inner, returned };
}

describe('non-402 responses are returned untouched', () => {
  const cases: [number, string, Record<string, string>][] = [
    [200, '{"ok":true,"n":1}', { 'content-type': 'application/json', 'x-extra': 'yes' }],
    [404, 'not here', { 'content-type': 'text/plain' }],
    [500, '<h1>boom</h1>', { 'content-type': 'text/html' }],
    [412, '{"error":"permit2_allowance_required"}', { 'content-type': 'application/json', 'PAYMENT-REQUIRED': 'eyJ4IjoxfQ==' }],
    [201, '', {}],
    [403, '{"error":"denied"}', { 'content-type': 'application/json' }],
  ];
  for (const [status, body, headers] of cases) {
    it(`${status}`, async () => {
      const seen: SeenRequest[] = [];
      server.use(
        http.all(URL_, async ({ request }) => {
          seen.push(await recordRequest(request));
          return new HttpResponse(body === '' ? null : body, { status, headers });
        }),
      );
      const signer = countingSigner();
      const { inner, returned } = recordingFetch();
      const res = await wrapFetch(inner, signer)(URL_, { method: 'POST', body: 'hello' });
      expect(returned).toHaveLength(1);
      expect(res).toBe(returned[0]);
      expect(res.status).toBe(status);
      expect(await res.text()).toBe(body);
      for (const [name, value] of Object.entries(headers)) expect(res.headers.get(name)).toBe(value);
      expect(getPayment(res)).toBeUndefined();
      expect(signer.calls).toBe(0);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.paid).toBe(false);
      expect(seen[0]!.text).toBe('hello');
    });
  }

  it('301 is followed by fetch and the final answer returned untouched', async () => {
    const hits: string[] = [];
    server.use(
      http.get(URL_, ({ request }) => {
        hits.push(request.url);
        return new HttpResponse(null, { status: 301, headers: { Location: 'https://api.example.com/moved' } });
      }),
      http.get('https://api.example.com/moved', ({ request }) => {
        hits.push(request.url);
        return HttpResponse.json({ moved: true });
      }),
    );
    const signer = countingSigner();
    const { inner, returned } = recordingFetch();
    const res = await wrapFetch(inner, signer)(URL_);
    expect(res).toBe(returned[0]);
    expect(res.status).toBe(200);
    expect(res.redirected).toBe(true);
    expect(await res.json()).toEqual({ moved: true });
    expect(hits).toEqual([URL_, 'https://api.example.com/moved']);
    expect(getPayment(res)).toBeUndefined();
    expect(signer.calls).toBe(0);
  });

  it('a 3xx with redirect: manual is returned as is', async () => {
    server.use(http.get(URL_, () => new HttpResponse(null, { status: 302, headers: { Location: '/elsewhere' } })));
    const res = await wrapFetch(fetch, countingSigner())(URL_, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/elsewhere');
    expect(getPayment(res)).toBeUndefined();
  });

  it('a streamed 200 body is not read or buffered by the wrapper', async () => {
    let pulls = 0;
    server.use(
      http.get(URL_, () => {
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            pulls++;
            controller.enqueue(new Uint8Array(1024));
            if (pulls >= 1000) controller.close();
          },
        });
        return new HttpResponse(stream, { status: 200 });
      }),
    );
    const res = await wrapFetch(fetch, countingSigner())(URL_);
    expect(res.status).toBe(200);
    // Only the stream's initial fill may have happened; the caller still owns the rest.
    expect(pulls).toBeLessThan(10);
    const all = await res.arrayBuffer();
    expect(all.byteLength).toBe(1024 * 1000);
  });

  it('a network error on the first request passes through as the fetch error, nothing paid', async () => {
    server.use(http.get(URL_, () => HttpResponse.error()));
    const signer = countingSigner();
    const error = await rejectionOf(wrapFetch(fetch, signer)(URL_));
    expect(error).toBeInstanceOf(TypeError);
    expect(isX402Error(error)).toBe(false);
    expect(signer.calls).toBe(0);
  });

  it('an inner fetch that throws passes its error through', async () => {
    const boom = new Error('inner fetch exploded');
    const signer = countingSigner();
    const error = await rejectionOf(wrapFetch((async () => { throw boom; }) as typeof fetch, signer)(URL_));
    expect(error).toBe(boom);
    expect(signer.calls).toBe(0);
  });
});

describe('wrapFetch arguments', () => {
  it('rejects a fetch that is not a function, naming it', () => {
    expect(() => wrapFetch(null as unknown as typeof fetch, countingSigner())).toThrow(TypeError);
    expect(() => wrapFetch(null as unknown as typeof fetch, countingSigner())).toThrow(/fetch must be a function.*got null/);
    expect(() => wrapFetch('fetch' as unknown as typeof fetch, countingSigner())).toThrow(/fetch must be a function.*got string/);
  });

  it('returns a function usable as fetch', () => {
    const paidFetch = wrapFetch(fetch, countingSigner());
    expect(typeof paidFetch).toBe('function');
  });
});
