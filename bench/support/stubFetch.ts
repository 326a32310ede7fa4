import type { Address } from 'viem';

/** The payee and token the stub's challenge names (those of the local stack). */
export const STUB_PAY_TO: Address = '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720';
export const STUB_USDC: Address = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';

/**
 * An in-process stand-in for the official x402 v2 server: a `fetch` that answers exactly what
 * `@x402/express` answers (the same headers, captured from it), without a socket, a server or a
 * facilitator. A request without a payment header gets the 402 with `PAYMENT-REQUIRED`; one
 * with `PAYMENT-SIGNATURE` gets a 200 with a `PAYMENT-RESPONSE` naming the payer. It verifies
 * nothing: it exists to measure what a client library itself costs per paid request, with the
 * transport out of the picture.
 */
export function stubPaidServerFetch(options: { payTo: Address; usdc: Address; payer: Address }): typeof fetch {
  const network = 'eip155:84532';
  const challengeFor = (url: string) =>
    Buffer.from(
      JSON.stringify({
        x402Version: 2,
        error: 'Payment required',
        resource: { url, description: 'Local weather report', mimeType: 'application/json' },
        accepts: [
          {
            scheme: 'exact',
            network,
            amount: '10000',
            asset: options.usdc,
            payTo: options.payTo,
            maxTimeoutSeconds: 300,
            extra: { name: 'USDC', version: '2' },
          },
        ],
      }),
    ).toString('base64');
  const challenges = new Map<string, string>();
  const body = JSON.stringify({ report: { city: 'Localhost', weather: 'sunny', temperatureC: 21 }, x402Version: 2 });
  let tx = 0n;

  return async (input, init) => {
    const request = input instanceof Request ? input : undefined;
    const url = request ? request.url : String(input instanceof URL ? input.href : input);
    const headers = new Headers(init?.headers ?? request?.headers);
    if (!headers.has('payment-signature')) {
      let challenge = challenges.get(url);
      if (challenge === undefined) challenges.set(url, (challenge = challengeFor(url)));
      return new Response('{}', {
        status: 402,
        headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'payment-required': challenge },
      });
    }
    tx++;
    const receipt = Buffer.from(
      JSON.stringify({ success: true, payer: options.payer, transaction: `0x${tx.toString(16).padStart(64, '0')}`, network }),
    ).toString('base64');
    return new Response(body, {
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'private', 'payment-response': receipt },
    });
  };
}
