/**
 * `deliveryProblem`: how a 2xx answer to a paid request is judged from its head (THREATS F6),
 * for challenges read the way the engine reads them (v2 `resource.mimeType`, v1 the option's).
 */
import { describe, expect, it } from 'vitest';
import { deliveryProblem } from '../../src/internal/deliveryProblem.js';
import { readChallenge } from '../../src/protocol/read.js';
import { selectQuote } from '../../src/select.js';
import { resolveOptions } from '../../src/options.js';
import { paymentRequiredV1, paymentRequiredV2, requirementV1, requirementV2, v2Headers } from '../support/challenges.js';

const URL_ = 'https://api.example.com/premium-data';

/** The challenge and the quote the engine would have for a 402 announcing `mimeType` (or none). */
async function read(version: 1 | 2, mimeType: string | undefined) {
  const response =
    version === 2
      ? new Response('{}', { status: 402, headers: v2Headers(paymentRequiredV2(undefined, { resource: { url: URL_, ...(mimeType === undefined ? {} : { mimeType }) } })) })
      : new Response(JSON.stringify(paymentRequiredV1([requirementV1(mimeType === undefined ? { mimeType: undefined } : { mimeType })])), { status: 402 });
  const challenge = await readChallenge(response, URL_, { maxBodyBytes: 65536, maxHeaderBytes: 16384, versions: [1, 2] });
  const quote = selectQuote(challenge, { url: URL_, assets: resolveOptions().assets, check: () => undefined });
  return { challenge, quote };
}

/** An answer; a byte body, so that no `Content-Type` is added unless given. */
const answer = (status: number, headers: Record<string, string>, body: string | null = 'x') =>
  new Response(body === null ? null : new TextEncoder().encode(body), { status, headers });

describe('deliveryProblem', () => {
  for (const version of [1, 2] as const) {
    describe(`v${version}`, () => {
      it.each([
        ['204 No Content → empty', () => answer(204, {}, null), 'empty'],
        ['205 Reset Content → empty', () => answer(205, {}, null), 'empty'],
        ['Content-Length: 0 → empty', () => answer(200, { 'content-length': '0', 'content-type': 'application/json' }, ''), 'empty'],
        ['no body at all → empty', () => answer(200, { 'content-type': 'application/json' }, null), 'empty'],
        ['an HTML error page → unexpected_type', () => answer(200, { 'content-type': 'text/html; charset=utf-8' }), 'unexpected_type'],
        ['application/problem+json → unexpected_type', () => answer(200, { 'content-type': 'application/problem+json' }), 'unexpected_type'],
        ['the announced type → fine', () => answer(200, { 'content-type': 'application/json' }), undefined],
        ['the announced type, upper case, with parameters → fine', () => answer(200, { 'content-type': 'Application/JSON; charset=UTF-8' }), undefined],
        ['no Content-Type (nothing to judge)', () => answer(200, {}), undefined],
        ['a garbled Content-Type (nothing to judge)', () => answer(200, { 'content-type': 'json please' }), undefined],
      ] as const)('%s', async (_name, response, expected) => {
        const { challenge, quote } = await read(version, 'application/json');
        expect(deliveryProblem(response(), 'GET', quote, challenge)).toBe(expected);
      });

      it('a HEAD request has no body to judge', async () => {
        const { challenge, quote } = await read(version, 'application/json');
        expect(deliveryProblem(answer(200, { 'content-length': '0' }, null), 'HEAD', quote, challenge)).toBeUndefined();
      });

      it('no announced type, or */*: only emptiness is judged', async () => {
        for (const announced of [undefined, '', '*/*', 'not a media type']) {
          const { challenge, quote } = await read(version, announced);
          expect(deliveryProblem(answer(200, { 'content-type': 'text/html' }), 'GET', quote, challenge)).toBeUndefined();
          expect(deliveryProblem(answer(200, { 'content-length': '0' }, ''), 'GET', quote, challenge)).toBe('empty');
        }
      });

      it('a wildcard subtype (image/*) accepts any image, nothing else', async () => {
        const { challenge, quote } = await read(version, 'image/*');
        expect(deliveryProblem(answer(200, { 'content-type': 'image/png' }), 'GET', quote, challenge)).toBeUndefined();
        expect(deliveryProblem(answer(200, { 'content-type': 'text/html' }), 'GET', quote, challenge)).toBe('unexpected_type');
      });
    });
  }

  it('v2 judges by resource.mimeType, not by a stray mimeType in the option', async () => {
    const response = new Response('{}', {
      status: 402,
      headers: v2Headers(paymentRequiredV2([requirementV2({ mimeType: 'application/json' })], { resource: { url: URL_, mimeType: 'text/csv' } })),
    });
    const challenge = await readChallenge(response, URL_, { maxBodyBytes: 65536, maxHeaderBytes: 16384, versions: [1, 2] });
    const quote = selectQuote(challenge, { url: URL_, assets: resolveOptions().assets, check: () => undefined });
    expect(deliveryProblem(answer(200, { 'content-type': 'text/csv' }), 'GET', quote, challenge)).toBeUndefined();
    expect(deliveryProblem(answer(200, { 'content-type': 'application/json' }), 'GET', quote, challenge)).toBe('unexpected_type');
    // Without the challenge (nothing announced is known), only emptiness is judged.
    expect(deliveryProblem(answer(200, { 'content-type': 'application/json' }), 'GET', quote, undefined)).toBeUndefined();
  });
});
