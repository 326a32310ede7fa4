import { getAddress, keccak256, recoverTypedDataAddress, type Address, type Hex } from 'viem';
import { KNOWN_ASSETS, type AssetInfo } from '../protocol/assets.js';
import { caip2ToV1Network, evmChainId } from '../protocol/networks.js';
import { decodeBase64Json, encodeBase64Json } from '../protocol/codec.js';
import { parseDecimal } from '../internal/amount.js';
import { TRANSFER_WITH_AUTHORIZATION } from '../schemes/exactEvm.js';

/** A paid route of a {@link mockX402Server}. */
export interface MockRoute {
  /** Price in whole tokens of the server's stablecoin, e.g. `'0.01'` (0.01 USDC). */
  readonly price: string;
  /** The JSON body answered once paid (default `{ ok: true, path }`). */
  readonly body?: unknown;
}

/**
 * What the mock does with a payment it verified: `settled` (200 with a settled receipt),
 * `rejected` (402: the settlement failed, nothing moved), `lost` (it is settled, then the
 * connection breaks before the answer: the call sees a network error), `server_error` (502
 * without a receipt, nothing settled) or `empty` (settled, then a 200 with a receipt and no
 * content: the client reports `payment.delivery === 'empty'`).
 */
export type MockOutcome = 'settled' | 'rejected' | 'lost' | 'server_error' | 'empty';

/** The outcomes in which the mock settles the payment (the money moves). */
const SETTLING: ReadonlySet<MockOutcome> = new Set(['settled', 'lost', 'empty']);

/** A payment the mock received with a valid signature, and what it did with it. */
export interface MockPayment {
  /** The route paid. */
  readonly path: string;
  /** Atomic units authorized. */
  readonly amount: bigint;
  /** The signer, recovered from the signature. */
  readonly payer: Address;
  /** The authorization's nonce. */
  readonly nonce: Hex;
  /** Unix seconds after which it could no longer be settled. */
  readonly validBefore: bigint;
  /** The `payment-identifier` id sent with it, if any. */
  readonly paymentId: string | undefined;
  /** What the mock did with it. */
  readonly outcome: MockOutcome;
  /** The (made-up) settlement transaction, for `settled`, `lost` and `empty`. */
  readonly transaction: Hex | undefined;
}

/** Options of {@link mockX402Server}. */
export interface MockX402ServerOptions {
  /** Paid routes by path, e.g. `{ '/weather': '0.01' }` or `{ '/report': { price: '0.05', body: {...} } }`. Any other path answers 404. */
  readonly routes: Readonly<Record<string, MockRoute | string>>;
  /** CAIP-2 network (default `eip155:84532`, Base Sepolia); the server asks for that network's USDC. */
  readonly network?: string;
  /** Who is paid (default a fixed test address). */
  readonly payTo?: Address;
  /** x402 version spoken (default 2). */
  readonly version?: 1 | 2;
  /** Advertise the v2 `payment-identifier` extension: a repeat of one id and payment gets the first answer, another payment under that id a 409. */
  readonly paymentIdentifier?: boolean;
  /** Decides the fate of each verified payment (default: always `settled`). */
  readonly outcome?: (payment: Omit<MockPayment, 'outcome' | 'transaction'>) => MockOutcome;
  /** Clock in ms (default `Date.now`): `validAfter` and `validBefore` are checked against it. */
  readonly clock?: () => number;
}

/** A running {@link mockX402Server}. */
export interface MockX402Server {
  /** A `fetch` answering in process, never over the network: pass it to `wrapFetch` instead of `fetch`. */
  readonly fetch: typeof fetch;
  /** Every payment with a valid signature, in order. */
  readonly payments: readonly MockPayment[];
  /** Payments refused before settling (a bad signature, a wrong amount or payee, a used nonce…), with the reason. */
  readonly refused: readonly { readonly path: string; readonly reason: string }[];
  /** The total settled (`settled` and `lost`), in atomic units. */
  settledTotal(): bigint;
  /** The token it asks for: the network's built-in USDC (address, decimals, EIP-712 name and version). */
  readonly asset: AssetInfo;
}

/** The default payee of a mock server. */
export const MOCK_PAY_TO: Address = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';

/**
 * An x402 server in a `fetch` function, for testing code that pays without a chain, a server or
 * a network: unpaid requests to a route get a real 402 challenge (v2 `PAYMENT-REQUIRED`, or a v1
 * body); paid ones are verified like a facilitator would (the requirement, payee, amount and
 * time window, a nonce used once, and the EIP-3009 signature, recovered with viem) and answered
 * with a receipt. `outcome` makes payments fail in the ways real ones do, to test the error paths.
 * Nothing moves: the settlement transaction is made up.
 *
 * @example
 * ```ts
 * import { wrapFetch } from 'x402-autopay';
 * import { mockX402Server } from 'x402-autopay/testing';
 * import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
 *
 * const api = mockX402Server({ routes: { '/weather': '0.01' } });
 * const paidFetch = wrapFetch(api.fetch, privateKeyToAccount(generatePrivateKey()), { budget: { daily: '0.05' } });
 * await paidFetch('https://api.example.com/weather');
 * console.log(api.payments.length, api.settledTotal()); // 1 10000n
 * ```
 */
export function mockX402Server(options: MockX402ServerOptions): MockX402Server {
  const network = options.network ?? 'eip155:84532';
  const chainId = evmChainId(network);
  const asset = [...KNOWN_ASSETS.values()].find((a) => a.network === network && a.symbol === 'USDC' && a.transfer === 'eip3009');
  if (chainId === undefined || !asset) throw new TypeError(`mockX402Server: no built-in USDC on ${JSON.stringify(network)}; use e.g. 'eip155:84532' or 'eip155:8453'.`);
  const version = options.version ?? 2;
  const v1Network = caip2ToV1Network(network);
  if (version === 1 && !v1Network) throw new TypeError(`mockX402Server: x402 v1 has no name for ${network}.`);
  const payTo = getAddress(options.payTo ?? MOCK_PAY_TO);
  const clock = options.clock ?? Date.now;
  const routes = new Map<string, { amount: bigint; body: unknown }>();
  for (const [path, route] of Object.entries(options.routes)) {
    const price = typeof route === 'string' ? route : route.price;
    const amount = parseDecimal(price, asset.decimals);
    if (amount === undefined || amount <= 0n) throw new TypeError(`mockX402Server: the price of ${path} must be a positive decimal such as '0.01'; got ${JSON.stringify(price)}.`);
    routes.set(path, { amount, body: typeof route === 'string' || route.body === undefined ? { ok: true, path } : route.body });
  }
  const payments: MockPayment[] = [];
  const refused: { path: string; reason: string }[] = [];
  const usedNonces = new Set<string>();
  const answered = new Map<string, { header: string; response: () => Response }>();

  const requirement = (url: URL, amount: bigint): Record<string, unknown> => {
    const common = { scheme: 'exact', asset: asset.address, payTo, maxTimeoutSeconds: 60, extra: { name: asset.name, version: asset.version } };
    if (version === 2) return { ...common, network, amount: amount.toString() };
    return { ...common, network: v1Network, maxAmountRequired: amount.toString(), resource: url.href, description: `Paid route ${url.pathname}`, mimeType: 'application/json' };
  };
  const challenge = (url: URL, amount: bigint, error?: string): Response => {
    const accepts = [requirement(url, amount)];
    if (version === 1) return Response.json({ x402Version: 1, error: error ?? 'X-PAYMENT header is required', accepts }, { status: 402 });
    const required = {
      x402Version: 2,
      ...(error ? { error } : {}),
      resource: { url: url.href, description: `Paid route ${url.pathname}`, mimeType: 'application/json' },
      accepts,
      ...(options.paymentIdentifier ? { extensions: { 'payment-identifier': { info: { required: false }, schema: { type: 'object' } } } } : {}),
    };
    return Response.json({}, { status: 402, headers: { 'PAYMENT-REQUIRED': encodeBase64Json(required) } });
  };
  const receipt = (success: boolean, payer: Address, transaction: Hex | undefined, errorReason?: string): Record<string, string> => {
    const value = encodeBase64Json({ success, transaction: transaction ?? '', network: version === 2 ? network : v1Network, payer, ...(errorReason ? { errorReason } : {}) });
    return version === 2 ? { 'PAYMENT-RESPONSE': value } : { 'X-PAYMENT-RESPONSE': value };
  };

  const pay = async (url: URL, route: { amount: bigint; body: unknown }, header: string): Promise<Response> => {
    const refuse = (reason: string) => {
      refused.push({ path: url.pathname, reason });
      return challenge(url, route.amount, reason);
    };
    const decoded = decodeBase64Json(header.trim(), 64 * 1024);
    if (!decoded.ok) return refuse('invalid_payment_header');
    const payment = decoded.value as Record<string, any>;
    const accepted = version === 2 ? payment['accepted'] : payment;
    if (payment['x402Version'] !== version || accepted?.scheme !== 'exact' || accepted?.network !== (version === 2 ? network : v1Network)) return refuse('invalid_scheme_or_network');
    if (version === 2 && (String(accepted.asset).toLowerCase() !== asset.address.toLowerCase() || accepted.amount !== route.amount.toString() || accepted.payTo !== payTo)) {
      return refuse('accepted_requirement_mismatch');
    }
    const paymentId: unknown = payment['extensions']?.['payment-identifier']?.info?.id;
    const id = typeof paymentId === 'string' ? paymentId : undefined;
    if (id !== undefined && options.paymentIdentifier) {
      const first = answered.get(id);
      if (first) return first.header === header ? first.response() : Response.json({ error: 'payment_identifier_conflict' }, { status: 409 });
    }
    const auth = payment['payload']?.['authorization'] as Record<string, string> | undefined;
    const signature = payment['payload']?.['signature'];
    if (!auth || typeof signature !== 'string') return refuse('invalid_payload');
    let message: { from: Address; to: Address; value: bigint; validAfter: bigint; validBefore: bigint; nonce: Hex };
    try {
      message = { from: getAddress(auth['from']!), to: getAddress(auth['to']!), value: BigInt(auth['value']!), validAfter: BigInt(auth['validAfter']!), validBefore: BigInt(auth['validBefore']!), nonce: auth['nonce'] as Hex };
    } catch {
      return refuse('invalid_payload');
    }
    if (message.to !== payTo) return refuse('invalid_exact_evm_payload_recipient_mismatch');
    if (message.value !== route.amount) return refuse('invalid_exact_evm_payload_authorization_value');
    const now = BigInt(Math.floor(clock() / 1000));
    if (message.validAfter > now) return refuse('invalid_exact_evm_payload_authorization_valid_after');
    if (message.validBefore < now + 6n) return refuse('invalid_exact_evm_payload_authorization_valid_before');
    let signer: Address;
    try {
      signer = await recoverTypedDataAddress({
        domain: { name: asset.name, version: asset.version, chainId, verifyingContract: asset.address as Address },
        types: { TransferWithAuthorization: TRANSFER_WITH_AUTHORIZATION },
        primaryType: 'TransferWithAuthorization',
        message,
        signature: signature as Hex,
      });
    } catch {
      return refuse('invalid_exact_evm_payload_signature');
    }
    if (signer !== message.from) return refuse('invalid_exact_evm_payload_signature');
    if (usedNonces.has(message.nonce.toLowerCase())) return refuse('invalid_exact_evm_payload_authorization_nonce_used');
    const base = { path: url.pathname, amount: message.value, payer: signer, nonce: message.nonce, validBefore: message.validBefore, paymentId: id };
    const outcome = options.outcome?.(base) ?? 'settled';
    const moved = SETTLING.has(outcome);
    const transaction = moved ? keccak256(message.nonce) : undefined;
    payments.push(Object.freeze({ ...base, outcome, transaction }));
    if (moved) usedNonces.add(message.nonce.toLowerCase());
    const respond = (): Response => {
      if (outcome === 'rejected') return new Response(JSON.stringify({}), { status: 402, headers: { 'content-type': 'application/json', ...receipt(false, signer, undefined, 'insufficient_funds') } });
      if (outcome === 'server_error') return new Response('bad gateway', { status: 502 });
      if (outcome === 'empty') return new Response(null, { status: 200, headers: { 'content-length': '0', ...receipt(true, signer, transaction) } });
      return Response.json(route.body, { headers: receipt(true, signer, transaction) });
    };
    if (id !== undefined && options.paymentIdentifier && moved) answered.set(id, { header, response: respond });
    if (outcome === 'lost') throw new TypeError('fetch failed: the connection was reset (mockX402Server outcome "lost")');
    return respond();
  };

  const mockFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    if (request.signal.aborted) throw request.signal.reason;
    const url = new URL(request.url);
    const route = routes.get(url.pathname);
    if (!route) return new Response('not found', { status: 404 });
    const header = request.headers.get(version === 2 ? 'payment-signature' : 'x-payment');
    return header === null ? challenge(url, route.amount) : pay(url, route, header);
  };

  return {
    fetch: mockFetch as typeof fetch,
    payments,
    refused,
    asset,
    settledTotal: () => payments.reduce((sum, p) => (SETTLING.has(p.outcome) ? sum + p.amount : sum), 0n),
  };
}
