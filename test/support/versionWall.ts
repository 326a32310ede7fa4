import { expect } from 'vitest';
import { challengeV1, challengeV2, paywall, type Paywall, type SeenRequest } from './msw.js';
import { decodeHeader, paymentRequiredV1, paymentRequiredV2 } from './challenges.js';

/**
 * A paywall at `url` speaking v1 (402 body) or v2 (`PAYMENT-REQUIRED`) on every method, installed
 * on the msw `server`; `paid` answers the paid request (default: 200 with a settlement).
 */
export function versionWall(
  server: { use(...handlers: Paywall['handler'][]): void },
  url: string,
  version: 1 | 2 = 2,
  paid?: (seen: SeenRequest) => Response | Promise<Response>,
): Paywall {
  const p = paywall({
    url,
    challenge: () => (version === 2 ? challengeV2(paymentRequiredV2()) : challengeV1(paymentRequiredV1())),
    ...(paid ? { paid } : {}),
  });
  server.use(p.handler);
  return p;
}

/** Checks the exchange was: one unpaid request, then exactly one paid one with the right header. */
export function expectOnePaidRetry(seen: SeenRequest[], version: 1 | 2 = 2): void {
  expect(seen).toHaveLength(2);
  expect(seen[0]!.paid).toBe(false);
  expect(seen[1]!.paid).toBe(true);
  const name = version === 2 ? 'payment-signature' : 'x-payment';
  expect(decodeHeader(seen[1]!.headers[name]!).x402Version).toBe(version);
}
