/**
 * Proves the local x402 stack (examples/local-stack) against the OFFICIAL reference clients:
 * `@x402/fetch` + `@x402/core` `x402Client` + `@x402/evm` exact schemes (v2 and, through
 * `registerV1`, v1). Everything runs on loopback: a private anvil chain, local facilitators
 * and servers built from `@x402/express` / `x402-express`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAbiItem } from 'viem/utils';
import { decodeEventLog, getAddress, type AbiFunction, type AbiEvent, type Address, type Hash, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { decodePaymentResponseHeader, wrapFetchWithPayment, x402Client } from '@x402/fetch';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { ExactEvmSchemeV1 } from '@x402/evm/exact/v1/client';
import {
  CANONICAL_USDC_ADDRESS,
  PRICES,
  loadArtifact,
  startLocalStack,
  testUsdcAbi,
  type LocalPayer,
  type LocalStack,
} from '../../examples/local-stack/index.js';

/** Starting the stack and paying on anvil takes longer than the unit-test default. */
const INTEROP_TIMEOUT_MS = 60_000;

type Selector = (x402Version: number, accepts: { asset: string }[]) => { asset: string } | undefined;

/** The official reference client: v2 exact on eip155:84532 and v1 exact on base-sepolia. */
function officialFetch(payer: LocalPayer, options: { pickAsset?: Address; anyAsset?: boolean } = {}) {
  const account = privateKeyToAccount(payer.privateKey);
  const selector: Selector | undefined = options.pickAsset
    ? (_version, accepts) => accepts.find((a) => getAddress(a.asset) === options.pickAsset) ?? accepts[0]
    : undefined;
  const client = new x402Client(selector as ConstructorParameters<typeof x402Client>[0])
    .register('eip155:84532', new ExactEvmScheme(account))
    .registerV1('base-sepolia', new ExactEvmSchemeV1(account));
  if (options.anyAsset) client.setSpendControls({ allowedAssets: true });
  return wrapFetchWithPayment(fetch, client);
}

function decodeBase64Json(value: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as Record<string, unknown>;
}

describe('local x402 stack with the official packages', { timeout: INTEROP_TIMEOUT_MS }, () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack();
  }, INTEROP_TIMEOUT_MS);

  afterAll(async () => {
    await stack?.stop();
  });

  /** Checks the receipt on anvil and that the authorization nonce is now used; returns the nonce. */
  async function expectSettledOnChain(transaction: string, token: Address, payer: Address): Promise<Hex> {
    expect(transaction).toMatch(/^0x[0-9a-f]{64}$/i);
    const receipt = await stack.publicClient.getTransactionReceipt({ hash: transaction as Hash });
    expect(receipt.status).toBe('success');
    const used = receipt.logs
      .filter((log) => getAddress(log.address) === token)
      .map((log) => {
        try {
          return decodeEventLog({ abi: testUsdcAbi, data: log.data, topics: log.topics });
        } catch {
          return undefined;
        }
      })
      .find((event) => event?.eventName === 'AuthorizationUsed');
    expect(used?.eventName).toBe('AuthorizationUsed');
    if (used?.eventName !== 'AuthorizationUsed') throw new Error('unreachable');
    expect(used.args.authorizer).toBe(payer);
    expect(await stack.authorizationState(payer, used.args.nonce, token)).toBe(true);
    return used.args.nonce;
  }

  it('runs TestUSDC at the canonical Base Sepolia USDC address and at a custom address', async () => {
    expect(stack.chain.id).toBe(84532);
    expect(stack.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.usdc).toBe(CANONICAL_USDC_ADDRESS);
    expect(stack.customToken).not.toBe(stack.usdc);
    for (const token of [stack.usdc, stack.customToken]) {
      const read = <F extends 'name' | 'symbol' | 'version' | 'decimals'>(functionName: F) =>
        stack.publicClient.readContract({ address: token, abi: testUsdcAbi, functionName });
      expect([await read('name'), await read('symbol'), await read('version'), await read('decimals')]).toEqual([
        'USDC',
        'USDC',
        '2',
        6,
      ]);
      const domain = await stack.publicClient.readContract({ address: token, abi: testUsdcAbi, functionName: 'eip712Domain' });
      expect(domain).toEqual(['0x0f', 'USDC', '2', 84532n, token, `0x${'0'.repeat(64)}`, []]);
    }
  });

  it('has a typed ABI that matches the compiled artifact', () => {
    const signatures = (abi: readonly unknown[]) =>
      new Set(
        (abi as (AbiFunction | AbiEvent | { type: string })[])
          .filter((item): item is AbiFunction | AbiEvent => item.type === 'function' || item.type === 'event')
          .map((item) => formatAbiItem(item)),
      );
    expect(signatures(testUsdcAbi)).toEqual(signatures(loadArtifact('TestUSDC').abi));
  });

  it('serves /free without payment on both servers', async () => {
    for (const base of [stack.v1.url, stack.v2.url]) {
      const response = await fetch(`${base}/free`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ free: true });
    }
  });

  it('answers an unpaid v2 /weather with 402 and a PAYMENT-REQUIRED header', async () => {
    const response = await fetch(`${stack.v2.url}/weather`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(402);
    const header = response.headers.get('payment-required');
    expect(header).toBeTruthy();
    const challenge = decodeBase64Json(header ?? '');
    expect(challenge).toMatchObject({
      x402Version: 2,
      error: 'Payment required',
      resource: { url: `${stack.v2.url}/weather` },
      accepts: [
        {
          scheme: 'exact',
          network: 'eip155:84532',
          amount: String(PRICES.weather),
          asset: stack.usdc,
          payTo: stack.v2.payTo,
          extra: { name: 'USDC', version: '2' },
        },
      ],
    });
  });

  it('answers an unpaid v1 /weather with 402 and a JSON challenge body', async () => {
    const response = await fetch(`${stack.v1.url}/weather`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(402);
    expect(await response.json()).toMatchObject({
      x402Version: 1,
      accepts: [
        {
          scheme: 'exact',
          network: 'base-sepolia',
          maxAmountRequired: String(PRICES.weather),
          asset: stack.usdc,
          payTo: stack.v1.payTo,
          extra: { name: 'USDC', version: '2' },
        },
      ],
    });
  });

  it('lets the official v2 client (@x402/fetch) pay /weather, settled on anvil', async () => {
    const payer = await stack.newPayer();
    const [payerBefore, payeeBefore] = [await stack.balanceOf(payer.address), await stack.balanceOf(stack.v2.payTo)];

    const response = await officialFetch(payer)(`${stack.v2.url}/weather`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ report: { weather: 'sunny' }, x402Version: 2 });

    const settlement = decodePaymentResponseHeader(response.headers.get('payment-response') ?? '');
    expect(settlement).toMatchObject({ success: true, network: 'eip155:84532', payer: payer.address });
    await expectSettledOnChain(settlement.transaction, stack.usdc, payer.address);

    expect(await stack.balanceOf(payer.address)).toBe(payerBefore - PRICES.weather);
    expect(await stack.balanceOf(stack.v2.payTo)).toBe(payeeBefore + PRICES.weather);
    expect(stack.v2.server.requests.filter((r) => r.path === '/weather').slice(-2)).toEqual([
      { method: 'GET', path: '/weather', paymentHeader: undefined, status: 402 },
      { method: 'GET', path: '/weather', paymentHeader: 'PAYMENT-SIGNATURE', status: 200 },
    ]);
  });

  it('lets the official client pay the legacy v1 /weather (registerV1 + ExactEvmSchemeV1)', async () => {
    const payer = await stack.newPayer();
    const [payerBefore, payeeBefore] = [await stack.balanceOf(payer.address), await stack.balanceOf(stack.v1.payTo)];

    const response = await officialFetch(payer)(`${stack.v1.url}/weather`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ report: { weather: 'sunny' }, x402Version: 1 });

    const settlement = decodePaymentResponseHeader(response.headers.get('x-payment-response') ?? '');
    expect(settlement).toMatchObject({ success: true, network: 'base-sepolia', payer: payer.address });
    await expectSettledOnChain(settlement.transaction, stack.usdc, payer.address);

    expect(await stack.balanceOf(payer.address)).toBe(payerBefore - PRICES.weather);
    expect(await stack.balanceOf(stack.v1.payTo)).toBe(payeeBefore + PRICES.weather);
    expect(stack.v1.server.requests.filter((r) => r.path === '/weather').slice(-2)).toEqual([
      { method: 'GET', path: '/weather', paymentHeader: undefined, status: 402 },
      { method: 'GET', path: '/weather', paymentHeader: 'X-PAYMENT', status: 200 },
    ]);
  });

  it('delivers the POST /echo body intact on the paid retry (v1 and v2)', async () => {
    const payer = await stack.newPayer();
    const pay = officialFetch(payer);
    const body = { question: 'héllo 🌍', nested: { list: [1, 2, 3], flag: true } };
    for (const base of [stack.v2.url, stack.v1.url]) {
      const before = await stack.balanceOf(payer.address);
      const response = await pay(`${base}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ received: body });
      expect(await stack.balanceOf(payer.address)).toBe(before - PRICES.echo);
    }
  });

  it('offers two options on /two-options; the official client pays USDC unless told otherwise', async () => {
    const v2Challenge = decodeBase64Json(
      (await fetch(`${stack.v2.url}/two-options`)).headers.get('payment-required') ?? '',
    );
    expect(v2Challenge.accepts).toMatchObject([
      { amount: String(PRICES.twoOptionsUsdc), asset: stack.usdc },
      { amount: String(PRICES.twoOptionsCustom), asset: stack.customToken },
    ]);
    const v1Challenge = (await (await fetch(`${stack.v1.url}/two-options`)).json()) as Record<string, unknown>;
    expect(v1Challenge.accepts).toMatchObject([
      { maxAmountRequired: String(PRICES.twoOptionsUsdc), asset: stack.usdc },
      { maxAmountRequired: String(PRICES.twoOptionsCustom), asset: stack.customToken },
    ]);

    for (const base of [stack.v2.url, stack.v1.url]) {
      // Default official client: spend controls drop the unknown custom token, so it pays USDC.
      const payer = await stack.newPayer();
      const defaultResponse = await officialFetch(payer)(`${base}/two-options`);
      expect(defaultResponse.status).toBe(200);
      expect(await stack.balanceOf(payer.address, stack.usdc)).toBe(1_000_000n - PRICES.twoOptionsUsdc);
      expect(await stack.balanceOf(payer.address, stack.customToken)).toBe(1_000_000n);

      // A client that accepts the custom token and picks it pays the cheaper option.
      const customResponse = await officialFetch(payer, { pickAsset: stack.customToken, anyAsset: true })(
        `${base}/two-options`,
      );
      expect(customResponse.status).toBe(200);
      const header = customResponse.headers.get('payment-response') ?? customResponse.headers.get('x-payment-response');
      const settlement = decodePaymentResponseHeader(header ?? '');
      await expectSettledOnChain(settlement.transaction, stack.customToken, payer.address);
      expect(await stack.balanceOf(payer.address, stack.customToken)).toBe(1_000_000n - PRICES.twoOptionsCustom);
      expect(await stack.balanceOf(payer.address, stack.usdc)).toBe(1_000_000n - PRICES.twoOptionsUsdc);
    }
  });

  it('settles 5 concurrent payments on each server', async () => {
    for (const side of [stack.v2, stack.v1]) {
      const payer = await stack.newPayer();
      const pay = officialFetch(payer);
      const payeeBefore = await stack.balanceOf(side.payTo);
      const responses = await Promise.all(Array.from({ length: 5 }, () => pay(`${side.url}/weather`)));
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      const transactions = responses.map(
        (r) =>
          decodePaymentResponseHeader(r.headers.get('payment-response') ?? r.headers.get('x-payment-response') ?? '')
            .transaction,
      );
      expect(new Set(transactions).size).toBe(5);
      expect(await stack.balanceOf(payer.address)).toBe(1_000_000n - 5n * PRICES.weather);
      expect(await stack.balanceOf(side.payTo)).toBe(payeeBefore + 5n * PRICES.weather);
    }
  });

  it('refuses a payment replay: the same signed authorization cannot settle twice', async () => {
    const payer = await stack.newPayer();
    let captured: string | undefined;
    const recordingFetch: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      captured ??= request.headers.get('payment-signature') ?? undefined;
      return fetch(request);
    };
    const client = new x402Client().register('eip155:84532', new ExactEvmScheme(privateKeyToAccount(payer.privateKey)));
    const first = await wrapFetchWithPayment(recordingFetch, client)(`${stack.v2.url}/weather`);
    expect(first.status).toBe(200);
    expect(captured).toBeTruthy();

    const replay = await fetch(`${stack.v2.url}/weather`, { headers: { 'PAYMENT-SIGNATURE': captured ?? '' } });
    expect(replay.status).toBe(402);
    const challenge = decodeBase64Json(replay.headers.get('payment-required') ?? '');
    // Diagnosed through Multicall3 (placed on anvil by the stack): the nonce is already used.
    expect(challenge.error).toBe('invalid_exact_evm_nonce_already_used');
    expect(await stack.balanceOf(payer.address)).toBe(1_000_000n - PRICES.weather);
  });
});
