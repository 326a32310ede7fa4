/**
 * Fuzzing the whole `wrapFetch` path, in process (a fetch function that answers without
 * sockets): hostile challenges of both versions go in; the property is that the client either
 * pays exactly the option an independent policy oracle picks (cheapest acceptable, within the
 * cap) with exactly one signature, or refuses with a typed error having signed nothing. Raw
 * bytes and strings never produce a signature. And A6: under any ordering of `accepts`, the
 * signed value is ≤ the cap and on an allowed network.
 */
import fc from 'fast-check';
import { getAddress, isAddress } from 'viem';
import { describe, it } from 'vitest';
import { getPayment, isX402Error, wrapFetch, type WrapFetchOptions } from '../../src/index.js';
import { encodeBase64Json } from '../../src/protocol/codec.js';
import { BASE_SEPOLIA_USDC, BASE_USDC } from '../support/challenges.js';
import { TERMS, challengeIsValid, mutatedChallenge, validRequirement, wire, type Version } from './arbitraries.js';
import { useFuzzStats } from './fuzzStats.js';

const stats = useFuzzStats('wrapFetch path');
const URL_ = 'https://api.example.com/x';
const PAYER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const CAP = 100_000n; // the default per-request cap: 0.10 USD of a 6-decimal stablecoin
const KNOWN_CONTRACTS = [BASE_SEPOLIA_USDC, BASE_USDC].map((a) => a.toLowerCase());

interface Signed {
  to: string;
  value: bigint;
  chainId: number;
  verifyingContract: string;
}

/** Runs one call through a fresh wrapped fetch whose inner fetch answers in process. */
async function run(challenge: { header?: string; body?: BodyInit | null }, options: WrapFetchOptions = {}) {
  const signed: Signed[] = [];
  let paidRequests = 0;
  const signer = {
    address: PAYER,
    signTypedData: async (args: { domain: { chainId: number; verifyingContract: string }; message: { to: string; value: bigint } }) => {
      signed.push({ to: args.message.to, value: args.message.value, chainId: args.domain.chainId, verifyingContract: args.domain.verifyingContract });
      return `0x${'ab'.repeat(65)}` as const;
    },
  };
  const inner = (async (_input: RequestInfo | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    if (headers.has('payment-signature') || headers.has('x-payment')) {
      paidRequests++;
      return new Response('{"ok":true}', { status: 200 });
    }
    return new Response(challenge.body ?? '{}', { status: 402, headers: challenge.header === undefined ? {} : { 'payment-required': challenge.header } });
  }) as typeof fetch;
  const paidFetch = wrapFetch(inner, signer, options);
  try {
    const res = await paidFetch(URL_);
    return { ok: true as const, res, signed, paidRequests };
  } catch (error) {
    if (!isX402Error(error)) throw new Error(`an untyped error escaped: ${String(error)}`);
    if (error.moneyMoved !== 'no') throw new Error(`money "maybe" moved without a paid request failing: ${error.code}`);
    return { ok: false as const, code: error.code, signed, paidRequests };
  }
}

/** The policy oracle: which offered options this client may pay under the default budget. */
function acceptable(version: Version, option: Record<string, unknown>, networks?: readonly string[]): boolean {
  const terms = TERMS.find((t) => (version === 1 ? t.v1 : t.v2) === option['network']);
  if (!terms || option['scheme'] !== 'exact') return false;
  if (networks && !networks.includes(terms.v2)) return false;
  const asset = option['asset'];
  if (typeof asset !== 'string' || !isAddress(asset) || asset.toLowerCase() !== terms.asset.toLowerCase()) return false;
  const extra = option['extra'] as Record<string, unknown> | null | undefined;
  if (!extra || extra['name'] !== terms.name || extra['version'] !== terms.version || extra['assetTransferMethod'] !== undefined) return false;
  const payTo = option['payTo'];
  if (typeof payTo !== 'string' || !isAddress(payTo)) return false;
  const to = payTo.toLowerCase();
  if (to === '0x0000000000000000000000000000000000000000' || to === PAYER.toLowerCase() || KNOWN_CONTRACTS.includes(to)) return false;
  const amount = BigInt(option[version === 1 ? 'maxAmountRequired' : 'amount'] as string);
  return amount > 0n && amount <= CAP;
}

/** The option the oracle expects to be paid: the cheapest acceptable one, the first on ties. */
function expectedPick(version: Version, accepts: Record<string, unknown>[], networks?: readonly string[]) {
  let best: { to: string; value: bigint } | undefined;
  for (const option of accepts) {
    if (!acceptable(version, option, networks)) continue;
    const value = BigInt(option[version === 1 ? 'maxAmountRequired' : 'amount'] as string);
    if (!best || value < best.value) best = { to: getAddress(option['payTo'] as string), value };
  }
  return best;
}

function wireOf(version: Version, value: Record<string, unknown>) {
  return version === 2 ? { header: encodeBase64Json(value) } : { body: JSON.stringify(value) };
}

describe('the whole wrapFetch path', { timeout: 120_000 }, () => {
  for (const version of [1, 2] as const) {
    it(`v${version}: hostile challenges → the oracle's pick with ONE signature, or a typed refusal with none`, async () => {
      await fc.assert(
        fc.asyncProperty(mutatedChallenge(version), async ({ value }) => {
          stats.count();
          const sent = wire(value);
          const outcome = await run(wireOf(version, value));
          if (!challengeIsValid(version, sent)) {
            if (outcome.ok) throw new Error('paid for an invalid challenge');
            if (outcome.signed.length !== 0 || outcome.paidRequests !== 0) throw new Error('signed for an invalid challenge');
            if (outcome.code !== 'invalid_challenge' && outcome.code !== 'unsupported_version') throw new Error(`refused with ${outcome.code}`);
            stats.tally('invalid→refused');
            return;
          }
          const pick = expectedPick(version, sent['accepts'] as Record<string, unknown>[]);
          if (!pick) {
            if (outcome.ok || outcome.signed.length !== 0 || outcome.paidRequests !== 0) throw new Error('paid although no option is acceptable');
            stats.tally('valid, out of policy→refused');
            return;
          }
          stats.tally('acceptable→paid once');
          if (!outcome.ok) throw new Error(`refused (${outcome.code}) although ${pick.to} for ${pick.value} is acceptable`);
          if (outcome.signed.length !== 1 || outcome.paidRequests !== 1) throw new Error(`${outcome.signed.length} signatures, ${outcome.paidRequests} paid requests`);
          const [s] = outcome.signed;
          if (s!.to !== pick.to || s!.value !== pick.value) throw new Error(`signed ${s!.to}/${s!.value}, expected ${pick.to}/${pick.value}`);
          if (s!.value > CAP) throw new Error('signed over the cap');
          if (getPayment(outcome.res)?.amount !== pick.value) throw new Error('the receipt disagrees with the signature');
        }),
        stats.params(3_000),
      );
    });
  }

  it('raw bytes as a v1 body and raw strings as a v2 header: never a signature, never an untyped error', async () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ body: bytes as BodyInit })),
      fc.oneof(fc.string({ maxLength: 120 }), fc.base64String({ maxLength: 200 })).filter((s) => /^[\x20-\x7e]*$/.test(s)).map((header) => ({ header })),
    );
    await fc.assert(
      fc.asyncProperty(input, async (challenge) => {
        stats.count();
        const outcome = await run(challenge);
        if (outcome.signed.length !== 0 || outcome.paidRequests !== 0) throw new Error('signed for garbage');
        stats.tally('garbage→refused');
      }),
      stats.params(1_500),
    );
  });

  it('A6: under any ordering of accepts (disallowed chains, over-cap, fake domains), the signed value is ≤ the cap on an allowed network', async () => {
    const pool = fc.tuple(
      fc.array(validRequirement(2), { minLength: 1, maxLength: 4 }),
      fc.array(
        fc.record({ amount: fc.bigInt({ min: 1n, max: 10n ** 9n }), spoof: fc.constantFrom('none', 'domain', 'over-cap', 'permit2') }),
        { maxLength: 4 },
      ),
    );
    await fc.assert(
      fc.asyncProperty(pool, fc.nat(), async ([good, extra], seed) => {
        stats.count();
        const spoofed = extra.map(({ amount, spoof }) => ({
          scheme: 'exact',
          network: 'eip155:84532',
          amount: (spoof === 'over-cap' ? CAP + amount : amount).toString(),
          asset: BASE_SEPOLIA_USDC,
          payTo: '0x1111111111111111111111111111111111111111',
          maxTimeoutSeconds: 60,
          extra: spoof === 'domain' ? { name: 'USD Coin', version: '2' } : spoof === 'permit2' ? { name: 'USDC', version: '2', assetTransferMethod: 'permit2' } : { name: 'USDC', version: '2' },
        }));
        // A deterministic shuffle of everything offered.
        const accepts = [...good, ...spoofed].map((o, i) => ({ o, k: (i * 2654435761 + seed) % 1000003 })).sort((a, b) => a.k - b.k).map((x) => x.o);
        const challenge = { x402Version: 2, resource: { url: URL_ }, accepts };
        const networks = ['eip155:84532'];
        const outcome = await run(wireOf(2, challenge), { budget: { networks: { allow: networks } }, pinPayees: false });
        const pick = expectedPick(2, accepts, networks);
        if (!pick) {
          if (outcome.signed.length !== 0) throw new Error('signed although nothing is acceptable');
          stats.tally('A6 nothing acceptable→refused');
          return;
        }
        stats.tally('A6 paid the cheapest acceptable');
        if (outcome.signed.length !== 1) throw new Error(`${outcome.signed.length} signatures`);
        const [s] = outcome.signed;
        if (s!.value > CAP || s!.chainId !== 84532 || s!.verifyingContract !== BASE_SEPOLIA_USDC) throw new Error('signed out of policy');
        if (s!.to !== pick.to || s!.value !== pick.value) throw new Error('not the cheapest acceptable option');
      }),
      stats.params(1_500),
    );
  });
});
