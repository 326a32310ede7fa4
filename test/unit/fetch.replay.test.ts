import { HttpResponse, delay } from 'msw';
import { describe, expect, it } from 'vitest';
import { getPayment, RequestBodyTooLargeError, SettlementUnknownError, wrapFetch } from '../../src/index.js';
import { challengeV2, paywall, parseFormData, useMswServer } from '../support/msw.js';
import { decodeHeader, paymentRequiredV2 } from '../support/challenges.js';
import { countingSigner } from '../support/signers.js';
import { expectOnePaidRetry, versionWall } from '../support/versionWall.js';
import { rejectionOf } from '../support/secrets.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/premium-data';

/** A paywall speaking v1 or v2 on every method. */
const wall = (version: 1 | 2 = 2) => versionWall(server, URL_, version);

function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

describe('input forms', () => {
  it('pays for a string URL', async () => {
    const p = wall();
    const signer = countingSigner();
    const res = await wrapFetch(fetch, signer)(URL_);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expectOnePaidRetry(p.seen);
    expect(p.seen.map((s) => s.url)).toEqual([URL_, URL_]);
    expect(signer.calls).toBe(1);
    expect(getPayment(res)?.amount).toBe(10000n);
  });

  it('pays for a URL object', async () => {
    const p = wall();
    const signer = countingSigner();
    const res = await wrapFetch(fetch, signer)(new URL(URL_));
    expect(res.status).toBe(200);
    expectOnePaidRetry(p.seen);
    expect(p.seen.map((s) => s.url)).toEqual([URL_, URL_]);
    expect(signer.calls).toBe(1);
  });

  it('pays for a Request object', async () => {
    const p = wall();
    const signer = countingSigner();
    const res = await wrapFetch(fetch, signer)(new Request(URL_));
    expect(res.status).toBe(200);
    expectOnePaidRetry(p.seen);
    expect(p.seen.map((s) => s.method)).toEqual(['GET', 'GET']);
    expect(signer.calls).toBe(1);
  });

  it("pays for another realm's Request (the undici package's), through a fetch of that realm: method, headers and body on both sends", async () => {
    const { Request: ForeignRequest } = await import('undici');
    const p = wall();
    // The caller's fetch speaks its own realm's Request, as undici's fetch does (new Request(input, init)).
    const realmFetch: typeof fetch = async (input, init) => {
      const request = new ForeignRequest(input as never, init as never);
      if (request instanceof Request) throw new Error('undici Request is the global Request here');
      return fetch(request.url, { method: request.method, headers: [...request.headers], body: request.body ? await request.arrayBuffer() : undefined, redirect: request.redirect });
    };
    const signer = countingSigner();
    const input = new ForeignRequest(URL_, { method: 'POST', body: '{"order":42}', headers: { 'content-type': 'application/json', 'x-trace': 't1' } });
    const res = await wrapFetch(realmFetch, signer)(input as unknown as Request);
    expect(res.status).toBe(200);
    expectOnePaidRetry(p.seen);
    expect(p.seen.map((s) => [s.method, s.url, s.text, s.headers['content-type'], s.headers['x-trace'], s.redirect])).toEqual([
      ['POST', URL_, '{"order":42}', 'application/json', 't1', 'follow'],
      ['POST', URL_, '{"order":42}', 'application/json', 't1', 'manual'],
    ]);
    expect(signer.calls).toBe(1);
  });

  it('pays a URL with a query string, keeping the query on the paid request', async () => {
    const p = wall();
    const target = `${URL_}?symbol=ETH&limit=5`;
    await wrapFetch(fetch, countingSigner())(target);
    expect(p.seen.map((s) => s.url)).toEqual([target, target]);
  });
});

describe('headers are kept on the paid retry', () => {
  const expected = { authorization: 'Bearer s3cr3t-token', 'x-custom': 'forty-two', accept: 'application/json' };
  const forms: [string, (url: string) => Parameters<typeof fetch>][] = [
    ['a Headers instance', (url) => [url, { headers: new Headers({ Authorization: expected.authorization, 'X-Custom': expected['x-custom'], Accept: expected.accept }) }]],
    ['a tuple array', (url) => [url, { headers: [['Authorization', expected.authorization], ['X-Custom', expected['x-custom']], ['Accept', expected.accept]] }]],
    ['a record', (url) => [url, { headers: { Authorization: expected.authorization, 'X-Custom': expected['x-custom'], Accept: expected.accept } }]],
    ["a Request's own headers", (url) => [new Request(url, { headers: { Authorization: expected.authorization, 'X-Custom': expected['x-custom'], Accept: expected.accept } })]],
  ];

  for (const version of [2, 1] as const) {
    for (const [label, args] of forms) {
      it(`v${version}: ${label}`, async () => {
        const p = wall(version);
        const res = await wrapFetch(fetch, countingSigner())(...args(URL_));
        expect(res.status).toBe(200);
        expectOnePaidRetry(p.seen, version);
        for (const seen of p.seen) {
          expect(seen.headers).toMatchObject(expected);
        }
      });
    }
  }

  it('a Request with init.headers: init wins, as in fetch, on both requests', async () => {
    const p = wall();
    const request = new Request(URL_, { headers: { 'X-From': 'request', Authorization: 'Bearer a' } });
    await wrapFetch(fetch, countingSigner())(request, { headers: { 'X-From': 'init' } });
    expectOnePaidRetry(p.seen);
    for (const seen of p.seen) {
      expect(seen.headers['x-from']).toBe('init');
      expect(seen.headers['authorization']).toBeUndefined();
    }
  });

  it('a caller header that collides with the payment header name is replaced by the payment', async () => {
    const p = paywall({
      url: URL_,
      challenge: () => challengeV2(paymentRequiredV2()),
      paid: (seen) => (seen.headers['payment-signature'] === 'forged' ? challengeV2(paymentRequiredV2()) : HttpResponse.json({ ok: true })),
    });
    server.use(p.handler);
    const res = await wrapFetch(fetch, countingSigner())(URL_, { headers: { 'PAYMENT-SIGNATURE': 'forged' } });
    expect(res.status).toBe(200);
    expect(p.seen).toHaveLength(2);
    expect(p.seen[0]!.headers['payment-signature']).toBe('forged');
    expect(decodeHeader(p.seen[1]!.headers['payment-signature']!).x402Version).toBe(2);
  });
});

describe('bodies are replayed intact on the paid retry', () => {
  async function payWithBody(init: RequestInit, input: RequestInfo | URL = URL_) {
    const p = wall();
    const signer = countingSigner();
    const res = await wrapFetch(fetch, signer)(input, { method: 'POST', ...init });
    expect(res.status).toBe(200);
    expectOnePaidRetry(p.seen);
    expect(signer.calls).toBe(1);
    expect(p.seen.map((s) => s.method)).toEqual(['POST', 'POST']);
    return p.seen;
  }

  it('string', async () => {
    const seen = await payWithBody({ body: 'plain text body ✓' });
    for (const s of seen) {
      expect(s.text).toBe('plain text body ✓');
      expect(s.headers['content-type']).toBe('text/plain;charset=UTF-8');
    }
  });

  it('JSON string with its content type', async () => {
    const json = JSON.stringify({ query: 'weather', days: [1, 2, 3], nested: { ok: true } });
    const seen = await payWithBody({ body: json, headers: { 'Content-Type': 'application/json' } });
    for (const s of seen) {
      expect(JSON.parse(s.text)).toEqual({ query: 'weather', days: [1, 2, 3], nested: { ok: true } });
      expect(s.headers['content-type']).toBe('application/json');
    }
  });

  it('URLSearchParams', async () => {
    const seen = await payWithBody({ body: new URLSearchParams({ a: '1', b: 'two words', c: 'ü&=' }) });
    for (const s of seen) {
      expect(s.text).toBe('a=1&b=two+words&c=%C3%BC%26%3D');
      expect(s.headers['content-type']).toBe('application/x-www-form-urlencoded;charset=UTF-8');
      expect(Object.fromEntries(new URLSearchParams(s.text))).toEqual({ a: '1', b: 'two words', c: 'ü&=' });
    }
  });

  it('FormData with a field and a file part', async () => {
    const form = new FormData();
    form.append('field', 'value one');
    form.append('second', 'ünïcode');
    form.append('upload', new Blob(['file content\nline 2'], { type: 'text/plain' }), 'hello.txt');
    const seen = await payWithBody({ body: form });
    for (const s of seen) {
      expect(s.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
      const parsed = await parseFormData(s);
      expect(parsed.get('field')).toBe('value one');
      expect(parsed.get('second')).toBe('ünïcode');
      const file = parsed.get('upload') as File;
      expect(file).toBeInstanceOf(Blob);
      expect(file.name).toBe('hello.txt');
      expect(file.type).toBe('text/plain');
      expect(await file.text()).toBe('file content\nline 2');
    }
  });

  it('Blob', async () => {
    const seen = await payWithBody({ body: new Blob(['blob ', 'parts'], { type: 'application/x-custom' }) });
    for (const s of seen) {
      expect(s.text).toBe('blob parts');
      expect(s.headers['content-type']).toBe('application/x-custom');
    }
  });

  const binary = Uint8Array.from([0, 1, 2, 0xfe, 0xff, 0x80, 10, 13, 255, 7]);

  it('ArrayBuffer', async () => {
    const seen = await payWithBody({ body: binary.slice().buffer });
    for (const s of seen) expect(s.bytes).toEqual(binary);
  });

  it('Uint8Array', async () => {
    const seen = await payWithBody({ body: binary.slice() });
    for (const s of seen) expect(s.bytes).toEqual(binary);
  });

  it('Uint8Array view into a larger buffer (only the view is sent)', async () => {
    const backing = new Uint8Array(32).fill(0xaa);
    backing.set(binary, 8);
    const seen = await payWithBody({ body: backing.subarray(8, 8 + binary.length) });
    for (const s of seen) expect(s.bytes).toEqual(binary);
  });

  it('ReadableStream with duplex: half', async () => {
    const chunks = ['stream ', 'in ', 'three chunks'];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(bytesOf(c));
        controller.close();
      },
    });
    const seen = await payWithBody({ body: stream, duplex: 'half' } as RequestInit);
    for (const s of seen) expect(s.text).toBe('stream in three chunks');
  });

  it('an async iterable (Node stream style) with duplex: half', async () => {
    async function* chunks() {
      yield bytesOf('async ');
      yield bytesOf('iterable');
    }
    const seen = await payWithBody({ body: chunks() as unknown as BodyInit, duplex: 'half' } as RequestInit);
    for (const s of seen) expect(s.text).toBe('async iterable');
  });

  it('an async iterable over maxRequestBodyBytes is refused before anything is sent', async () => {
    const p = wall();
    const signer = countingSigner();
    async function* chunks() {
      for (let i = 0; i < 100; i++) yield new Uint8Array(1024);
    }
    const error = await rejectionOf(
      wrapFetch(fetch, signer, { maxRequestBodyBytes: 2048 })(URL_, { method: 'POST', body: chunks() as unknown as BodyInit, duplex: 'half' } as RequestInit),
    );
    expect(error).toBeInstanceOf(RequestBodyTooLargeError);
    expect(p.seen).toHaveLength(0);
    expect(signer.calls).toBe(0);
  });

  it('a Node Buffer', async () => {
    const seen = await payWithBody({ body: Buffer.from('buffer body ✓') });
    for (const s of seen) expect(s.text).toBe('buffer body ✓');
  });

  it('a Request with a body', async () => {
    const request = new Request(URL_, { method: 'POST', body: '{"from":"request"}', headers: { 'Content-Type': 'application/json', 'X-Custom': 'r' } });
    const p = wall();
    const signer = countingSigner();
    const res = await wrapFetch(fetch, signer)(request);
    expect(res.status).toBe(200);
    expectOnePaidRetry(p.seen);
    for (const s of p.seen) {
      expect(s.method).toBe('POST');
      expect(s.text).toBe('{"from":"request"}');
      expect(s.headers['content-type']).toBe('application/json');
      expect(s.headers['x-custom']).toBe('r');
    }
  });

  it('a Request with a FormData body (multipart boundary kept consistent)', async () => {
    const form = new FormData();
    form.append('field', 'x');
    form.append('upload', new Blob(['abc'], { type: 'text/plain' }), 'a.txt');
    const p = wall();
    await wrapFetch(fetch, countingSigner())(new Request(URL_, { method: 'PUT', body: form }));
    expectOnePaidRetry(p.seen);
    for (const s of p.seen) {
      expect(s.method).toBe('PUT');
      const parsed = await parseFormData(s);
      expect(parsed.get('field')).toBe('x');
      expect(await (parsed.get('upload') as File).text()).toBe('abc');
    }
  });

  it('a Request with a stream body', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytesOf('streamed '));
        controller.enqueue(bytesOf('request'));
        controller.close();
      },
    });
    const request = new Request(URL_, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    const p = wall();
    await wrapFetch(fetch, countingSigner())(request);
    expectOnePaidRetry(p.seen);
    for (const s of p.seen) expect(s.text).toBe('streamed request');
  });

  it('a stream larger than maxRequestBodyBytes is refused before anything is sent', async () => {
    const p = wall();
    const signer = countingSigner();
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 512;
        controller.enqueue(new Uint8Array(512));
        if (pulled >= 1024 * 1024) controller.close();
      },
    });
    const error = await rejectionOf(
      wrapFetch(fetch, signer, { maxRequestBodyBytes: 4096 })(URL_, { method: 'POST', body: stream, duplex: 'half' } as RequestInit),
    );
    expect(error).toBeInstanceOf(RequestBodyTooLargeError);
    expect(error.code).toBe('request_body_too_large');
    expect(error.moneyMoved).toBe('no');
    expect(error.limit).toBe(4096);
    expect(pulled).toBeLessThan(64 * 1024);
    expect(p.seen).toHaveLength(0);
    expect(signer.calls).toBe(0);
  });

  it('a Request whose stream body is too large is refused too', async () => {
    const p = wall();
    const signer = countingSigner();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(3000));
        controller.enqueue(new Uint8Array(3000));
        controller.close();
      },
    });
    const request = new Request(URL_, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    const error = await rejectionOf(wrapFetch(fetch, signer, { maxRequestBodyBytes: 5000 })(request));
    expect(error).toBeInstanceOf(RequestBodyTooLargeError);
    expect(error.code).toBe('request_body_too_large');
    expect(p.seen).toHaveLength(0);
    expect(signer.calls).toBe(0);
  });

  it('a too-large Request body that the caller also cloned is refused without hanging', async () => {
    const p = wall();
    const signer = countingSigner();
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(1024));
      },
    });
    const request = new Request(URL_, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    const kept = request.clone(); // tees the body: the caller keeps a copy
    const error = await rejectionOf(wrapFetch(fetch, signer, { maxRequestBodyBytes: 4096 })(request));
    expect(error).toBeInstanceOf(RequestBodyTooLargeError);
    expect(kept.bodyUsed).toBe(false);
    expect(p.seen).toHaveLength(0);
    expect(signer.calls).toBe(0);
  });

  it('a stream exactly at maxRequestBodyBytes is accepted', async () => {
    const p = wall();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(2048).fill(65));
        controller.close();
      },
    });
    await wrapFetch(fetch, countingSigner(), { maxRequestBodyBytes: 2048 })(URL_, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expectOnePaidRetry(p.seen);
    for (const s of p.seen) expect(s.text).toBe('A'.repeat(2048));
  });
});

describe('method, credentials and signal', () => {
  for (const method of ['PUT', 'PATCH', 'DELETE', 'post'] as const) {
    it(`keeps method ${method}`, async () => {
      const p = wall();
      await wrapFetch(fetch, countingSigner())(URL_, { method, body: method === 'DELETE' ? undefined : 'x' });
      expectOnePaidRetry(p.seen);
      expect(p.seen.map((s) => s.method)).toEqual([method.toUpperCase(), method.toUpperCase()]);
    });
  }

  it('keeps credentials', async () => {
    const p = wall();
    await wrapFetch(fetch, countingSigner())(URL_, { credentials: 'include' });
    expectOnePaidRetry(p.seen);
    expect(p.seen.map((s) => s.credentials)).toEqual(['include', 'include']);
  });

  it("keeps a Request's credentials", async () => {
    const p = wall();
    await wrapFetch(fetch, countingSigner())(new Request(URL_, { credentials: 'omit' }));
    expectOnePaidRetry(p.seen);
    expect(p.seen.map((s) => s.credentials)).toEqual(['omit', 'omit']);
  });

  it('sends the paid request with redirect: manual and the first one as the caller asked', async () => {
    const p = wall();
    await wrapFetch(fetch, countingSigner())(URL_);
    expect(p.seen.map((s) => s.redirect)).toEqual(['follow', 'manual']);
  });

  it('an already aborted signal rejects with the AbortError and pays nothing', async () => {
    const p = wall();
    const signer = countingSigner();
    const controller = new AbortController();
    controller.abort();
    const error = await rejectionOf(wrapFetch(fetch, signer)(URL_, { signal: controller.signal }));
    expect(error).toBe(controller.signal.reason);
    expect((error as DOMException).name).toBe('AbortError');
    expect(p.seen).toHaveLength(0);
    expect(signer.calls).toBe(0);
  });

  it("an already aborted Request's signal rejects with the AbortError and pays nothing", async () => {
    const p = wall();
    const signer = countingSigner();
    const controller = new AbortController();
    controller.abort();
    const error = await rejectionOf(wrapFetch(fetch, signer)(new Request(URL_, { signal: controller.signal })));
    expect((error as DOMException).name).toBe('AbortError');
    expect(p.seen).toHaveLength(0);
    expect(signer.calls).toBe(0);
  });

  it('a signal aborted while signing: the payment is never sent', async () => {
    const p = wall();
    const controller = new AbortController();
    const inner = countingSigner();
    const signer = {
      address: inner.address,
      signTypedData: async (args: Parameters<typeof inner.signTypedData>[0]) => {
        const signature = await inner.signTypedData(args);
        controller.abort();
        return signature;
      },
    };
    const error = await rejectionOf(wrapFetch(fetch, signer)(URL_, { signal: controller.signal }));
    expect((error as DOMException).name).toBe('AbortError');
    expect(p.seen).toHaveLength(1);
    expect(p.paid()).toHaveLength(0);
  });

  it('the signal is kept on the paid request: aborting it in flight ends the call (settlement unknown)', async () => {
    const controller = new AbortController();
    let paidStarted = 0;
    const p = paywall({
      url: URL_,
      challenge: () => challengeV2(paymentRequiredV2()),
      paid: async () => {
        paidStarted++;
        controller.abort();
        await delay(2_000);
        return HttpResponse.json({ late: true });
      },
    });
    server.use(p.handler);
    const started = Date.now();
    const error = await rejectionOf(wrapFetch(fetch, countingSigner())(URL_, { signal: controller.signal }));
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(paidStarted).toBe(1);
    expect(error).toBeInstanceOf(SettlementUnknownError);
    expect(error.code).toBe('settlement_unknown');
    expect(error.moneyMoved).toBe('maybe');
    expect((error.cause as DOMException).name).toBe('AbortError');
  });
});
