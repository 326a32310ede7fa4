import { http, HttpResponse } from 'msw';
import { parseSIWxHeader, validateSIWxMessage, verifySIWxSignature } from '@x402/extensions/sign-in-with-x';
import { challengeV2, recordRequest, type SeenRequest } from './msw.js';
import { decodeHeader, paymentRequiredV2, requirementV2, settlementHeader } from './challenges.js';

/** One sign-in the server received, and what its official verification said. */
export interface SignInAttempt {
  readonly valid: boolean;
  readonly reason?: string;
  readonly payload?: ReturnType<typeof parseSIWxHeader>;
}

/**
 * An msw handler for a paid API at `url` that takes sign-ins the way the official server
 * extension does (`paidBy`: addresses that paid before this test): it offers
 * `sign-in-with-x` in every 402 (a fresh nonce and issuedAt), checks a `SIGN-IN-WITH-X` header
 * with the official `@x402/extensions` parser, validator and verifier, and lets in an address
 * that paid before (or anyone signed in, on an auth-only route).
 */
export function signInServer(args: { url?: string; authOnly?: boolean; info?: Record<string, unknown>; chains?: unknown[]; paidBy?: readonly string[] } = {}) {
  const url = args.url ?? 'https://api.example.com/report';
  const paidBy = new Set<string>((args.paidBy ?? []).map((a) => a.toLowerCase()));
  const seen: SeenRequest[] = [];
  const signIns: SignInAttempt[] = [];
  const challenge = () => {
    const info = {
      domain: new URL(url).host,
      uri: url,
      version: '1',
      nonce: crypto.randomUUID().replaceAll('-', ''),
      issuedAt: new Date().toISOString(),
      statement: 'Sign in to read what you bought',
      resources: [url],
      ...args.info,
    };
    const chains = args.chains ?? [{ chainId: 'eip155:84532', type: 'eip191' }];
    return challengeV2(paymentRequiredV2(args.authOnly ? [] : [requirementV2()], { extensions: { 'sign-in-with-x': { info, supportedChains: chains, schema: {} } } }));
  };
  const handler = http.all(url, async ({ request }) => {
    const record = await recordRequest(request);
    seen.push(record);
    const header = request.headers.get('sign-in-with-x');
    if (header) {
      try {
        const payload = parseSIWxHeader(header);
        const valid = await validateSIWxMessage(payload, new URL(new URL(url).origin));
        const verified = valid.isValid ? await verifySIWxSignature(payload) : valid;
        signIns.push({ valid: verified.isValid, payload, ...(verified.isValid ? {} : { reason: verified.invalidReason }) });
        if (verified.isValid && (args.authOnly || paidBy.has(verified.payer.toLowerCase()))) return HttpResponse.json({ signedInAs: verified.payer });
      } catch (error) {
        signIns.push({ valid: false, reason: String(error) });
      }
    }
    if (record.paid) {
      const from = decodeHeader(record.headers['payment-signature']!).payload.authorization.from as string;
      paidBy.add(from.toLowerCase());
      return HttpResponse.json(
        { paidBy: from },
        { headers: { 'PAYMENT-RESPONSE': settlementHeader({ success: true, transaction: `0x${'ab'.repeat(32)}`, network: 'eip155:84532', payer: from }) } },
      );
    }
    return challenge();
  });
  return { handler, seen, signIns, payments: () => seen.filter((s) => s.paid) };
}

