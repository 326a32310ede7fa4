import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { NoAcceptableOptionError } from '../../src/index.js';
import { hostMatches } from '../../src/budget/budget.js';
import { resolveBudget } from '../../src/budget/budgetOptions.js';
import { useMswServer } from '../support/msw.js';
import { paymentRequiredV2 } from '../support/challenges.js';
import { failure, outcome, payer, serve, usdc } from '../support/paying.js';

const server = useMswServer();

/** Matches a host (as a URL gives it) against a configured pattern, both normalised as the budget does. */
const matches = (url: string, pattern: string) => {
  const [normalised] = resolveBudget({ hosts: { allow: [pattern] } }).hosts.allow!;
  return hostMatches(new URL(url).hostname, normalised!);
};

describe('host patterns', () => {
  it('an exact name matches only itself', () => {
    expect(matches('https://api.example.com/x', 'api.example.com')).toBe(true);
    expect(matches('https://API.EXAMPLE.COM/x', 'api.example.com')).toBe(true);
    expect(matches('https://api.example.com:8443/x', 'api.example.com')).toBe(true);
    for (const url of ['https://example.com/', 'https://sub.api.example.com/', 'https://api.example.com.evil.test/', 'https://evil-api.example.com/', 'https://api-example.com/']) {
      expect(matches(url, 'api.example.com'), url).toBe(false);
    }
  });

  it('*.example.com matches sub.example.com (at any depth), not example.com nor lookalikes', () => {
    for (const url of ['https://sub.example.com/', 'https://a.b.example.com/', 'https://SUB.Example.com/']) expect(matches(url, '*.example.com'), url).toBe(true);
    for (const url of ['https://example.com/', 'https://evil-example.com/', 'https://example.com.evil.test/', 'https://sub.example.com.evil.test/', 'https://notexample.com/', 'https://xexample.com/']) {
      expect(matches(url, '*.example.com'), url).toBe(false);
    }
  });

  it('IDN patterns are normalised to punycode and match the URL form', () => {
    expect(matches('https://bücher.example/', 'bücher.example')).toBe(true);
    expect(matches('https://xn--bcher-kva.example/', 'bücher.example')).toBe(true);
    expect(matches('https://shop.bücher.example/', '*.bücher.example')).toBe(true);
    expect(matches('https://bucher.example/', 'bücher.example')).toBe(false);
    // A homograph (Cyrillic 'а') is a different host.
    expect(matches('https://\u0430pi.example.com/', 'api.example.com')).toBe(false);
  });
});

describe('budget.hosts on the wire', () => {
  it('allow: a listed host is paid, any other is refused with host_not_allowed and nothing signed', async () => {
    const ok = serve(server, 'https://api.example.com/data');
    const other = serve(server, 'https://other.example.net/data');
    const { paidFetch, signer } = payer({ budget: { hosts: { allow: ['api.example.com'] } } });
    expect(await outcome(paidFetch, 'https://api.example.com/data')).toBe('HTTP 200');
    const error = await failure(paidFetch, 'https://other.example.net/data');
    expect(error).toBeInstanceOf(NoAcceptableOptionError);
    expect(error.refusals.map((r: { code: string }) => r.code)).toEqual(['host_not_allowed']);
    expect(error.refusals[0].message).toContain('other.example.net');
    expect(signer.calls).toBe(1);
    expect(ok.paid()).toHaveLength(1);
    expect(other.paid()).toHaveLength(0);
  });

  it('allow with a glob: sub.example.com is paid; example.com, evil-example.com and example.com.evil.test are not', async () => {
    const urls = ['https://sub.example.com/d', 'https://example.com/d', 'https://evil-example.com/d', 'https://example.com.evil.test/d'];
    const walls = urls.map((u) => serve(server, u));
    const { paidFetch, signer } = payer({ budget: { hosts: { allow: ['*.example.com'] } } });
    const results = [];
    for (const url of urls) results.push(await outcome(paidFetch, url));
    expect(results).toEqual(['HTTP 200', 'no_acceptable_option', 'no_acceptable_option', 'no_acceptable_option']);
    expect(signer.calls).toBe(1);
    expect(walls.map((w) => w.paid().length)).toEqual([1, 0, 0, 0]);
  });

  it('deny wins over allow, and a deny list alone admits the rest', async () => {
    serve(server, 'https://api.example.com/d');
    serve(server, 'https://bad.example.com/d');
    const both = payer({ budget: { hosts: { allow: ['*.example.com'], deny: ['bad.example.com'] } } }).paidFetch;
    expect(await outcome(both, 'https://api.example.com/d')).toBe('HTTP 200');
    expect(await outcome(both, 'https://bad.example.com/d')).toBe('no_acceptable_option');
    const denyOnly = payer({ budget: { hosts: { deny: ['*.example.com'] } } }).paidFetch;
    expect(await outcome(denyOnly, 'https://api.example.com/d')).toBe('no_acceptable_option');
  });

  it('an IDN host allowed by its Unicode name is paid', async () => {
    const p = serve(server, 'https://xn--bcher-kva.example/d');
    const { paidFetch } = payer({ budget: { hosts: { allow: ['bücher.example'] } } });
    expect(await outcome(paidFetch, 'https://bücher.example/d')).toBe('HTTP 200');
    expect(p.paid()).toHaveLength(1);
  });

  it('a trailing dot does not escape a deny list or an exact allow', async () => {
    const p = serve(server, 'https://api.example.com./d');
    const denied = payer({ budget: { hosts: { deny: ['api.example.com'] } } });
    expect(await outcome(denied.paidFetch, 'https://api.example.com./d')).toBe('no_acceptable_option');
    expect(denied.signer.calls).toBe(0);
    const allowed = payer({ budget: { hosts: { allow: ['api.example.com'] } } });
    expect(await outcome(allowed.paidFetch, 'https://api.example.com./d')).toBe('HTTP 200');
    expect(p.paid()).toHaveLength(1);
  });
});

describe('which host is judged: the URL requested and the URL that answered 402, never resource.url', () => {
  it('an allowed host redirecting to a disallowed host that answers 402 → refused', async () => {
    server.use(http.get('https://api.example.com/report', () => new HttpResponse(null, { status: 302, headers: { Location: 'https://billing.evil.test/pay' } })));
    const billing = serve(server, 'https://billing.evil.test/pay');
    const { paidFetch, signer, store } = payer({ budget: { hosts: { allow: ['api.example.com'] } } });
    const error = await failure(paidFetch, 'https://api.example.com/report');
    expect(error.code).toBe('no_acceptable_option');
    expect(error.refusals.map((r: { code: string }) => r.code)).toEqual(['host_not_allowed']);
    expect(error.refusals[0].message).toContain('billing.evil.test');
    expect(signer.calls).toBe(0);
    expect(billing.seen).toHaveLength(1);
    expect(billing.paid()).toHaveLength(0);
    expect(await store.report()).toEqual([]);
  });

  it('a disallowed host redirecting to an allowed host that answers 402 → refused (the caller asked for the disallowed one)', async () => {
    server.use(http.get('https://tracker.evil.test/r', () => new HttpResponse(null, { status: 302, headers: { Location: 'https://api.example.com/data' } })));
    const target = serve(server, 'https://api.example.com/data');
    const { paidFetch, signer } = payer({ budget: { hosts: { allow: ['api.example.com'] } } });
    const error = await failure(paidFetch, 'https://tracker.evil.test/r');
    expect(error.code).toBe('no_acceptable_option');
    expect(error.refusals[0].message).toContain('tracker.evil.test');
    expect(signer.calls).toBe(0);
    expect(target.paid()).toHaveLength(0);
  });

  it('a disallowed host whose 402 claims resource.url on an allowed host → refused', async () => {
    const evil = serve(server, 'https://evil.test/pay', [usdc(10_000)], {
      resource: { url: 'https://api.example.com/premium-data', description: 'premium', mimeType: 'application/json' },
    });
    const { paidFetch, signer } = payer({ budget: { hosts: { allow: ['api.example.com'] } } });
    const error = await failure(paidFetch, 'https://evil.test/pay');
    expect(error.code).toBe('no_acceptable_option');
    expect(error.refusals.map((r: { code: string }) => r.code)).toEqual(['host_not_allowed']);
    expect(signer.calls).toBe(0);
    expect(evil.paid()).toHaveLength(0);
  });

  it('an allowed host whose 402 claims resource.url on a denied host is still paid (resource.url is not judged)', async () => {
    const p = serve(server, 'https://api.example.com/data', [usdc(10_000)], { resource: { url: 'https://denied.test/x' } });
    const { paidFetch } = payer({ budget: { hosts: { allow: ['api.example.com'], deny: ['denied.test'] } } });
    expect(await outcome(paidFetch, 'https://api.example.com/data')).toBe('HTTP 200');
    expect(p.paid()).toHaveLength(1);
  });

  it('the spend record names the host that answered 402', async () => {
    server.use(http.get('https://www.example.com/old', () => new HttpResponse(null, { status: 301, headers: { Location: 'https://api.example.com/data' } })));
    serve(server, 'https://api.example.com/data', [usdc(10_000)], { resource: { url: 'https://elsewhere.example.org/' } });
    const { paidFetch, store } = payer({ budget: { hosts: { allow: ['*.example.com'] } } });
    expect(await outcome(paidFetch, 'https://www.example.com/old')).toBe('HTTP 200');
    expect((await store.report()).map((r) => r.host)).toEqual(['api.example.com']);
  });

  it('paymentRequiredV2 test fixture carries resource.url on api.example.com (sanity of the spoof case)', () => {
    expect((paymentRequiredV2().resource as { url: string }).url).toBe('https://api.example.com/premium-data');
  });
});
