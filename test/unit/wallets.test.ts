import { describe, expect, it } from 'vitest';
import { createWalletClient, custom, getAddress, type Address } from 'viem';
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import { baseSepolia } from 'viem/chains';
import { getPayment, WalletError, wrapFetch, type WalletInput } from '../../src/index.js';
import { toWallet } from '../../src/wallets/toWallet.js';
import { KNOWN_ASSETS } from '../../src/protocol/assets.js';
import { TRANSFER_WITH_AUTHORIZATION } from '../../src/schemes/exactEvm.js';
import { challengeV2, paywall, useMswServer } from '../support/msw.js';
import { decodeHeader, paymentRequiredV2, testAccount } from '../support/challenges.js';
import { BASE_SEPOLIA_USDC_DOMAIN, countingSigner, fakeProvider, verifyWirePayload } from '../support/signers.js';
import { rejectionOf } from '../support/secrets.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/premium-data';
const MNEMONIC = 'test test test test test test test test test test test junk';

/** Pays one v2 challenge with `wallet`; checks the signature verifies for `expected` and returns the payload. */
async function paysWith(wallet: WalletInput, expected: Address) {
  const p = paywall({ url: URL_, challenge: () => challengeV2(paymentRequiredV2()) });
  server.use(p.handler);
  const res = await wrapFetch(fetch, wallet)(URL_);
  expect(res.status).toBe(200);
  expect(p.paid()).toHaveLength(1);
  const { payload } = decodeHeader(p.paid()[0]!.headers['payment-signature']!);
  expect(payload.authorization.from).toBe(expected);
  expect(await verifyWirePayload(payload, BASE_SEPOLIA_USDC_DOMAIN, expected)).toBe(true);
  expect(getPayment(res)?.payer).toBe(expected);
  return payload;
}

describe('wallet adapters pay and sign for the right address', () => {
  it('viem privateKeyToAccount', async () => {
    await paysWith(testAccount, testAccount.address);
  });

  it('viem mnemonicToAccount (the standard test mnemonic → 0xf39F…2266)', async () => {
    const account = mnemonicToAccount(MNEMONIC);
    expect(account.address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    await paysWith(account, account.address);
  });

  it('viem mnemonicToAccount at another index', async () => {
    const account = mnemonicToAccount(MNEMONIC, { addressIndex: 1 });
    expect(account.address).toBe('0x70997970C51812dc3A010C7d01b50e0d17dc79C8');
    await paysWith(account, account.address);
  });

  it('viem WalletClient with a local account (signs locally, the provider is never asked)', async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const provider = fakeProvider(privateKeyToAccount(generatePrivateKey()));
    const client = createWalletClient({ account, chain: baseSepolia, transport: custom(provider) });
    await paysWith(client, account.address);
    expect(provider.calls.map((c) => c.method)).not.toContain('eth_signTypedData_v4');
  });

  it('viem WalletClient with a JSON-RPC account (the wallet signs through eth_signTypedData_v4)', async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const provider = fakeProvider(account);
    const client = createWalletClient({ account: account.address, transport: custom(provider) });
    expect(client.account.type).toBe('json-rpc');
    await paysWith(client, account.address);
    const signs = provider.calls.filter((c) => c.method === 'eth_signTypedData_v4');
    expect(signs).toHaveLength(1);
    const [from, json] = signs[0]!.params as [string, string];
    expect(getAddress(from)).toBe(account.address);
    expect(JSON.parse(json).primaryType).toBe('TransferWithAuthorization');
  });

  it('viem WalletClient without an account (address from eth_accounts)', async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const provider = fakeProvider(account);
    const client = createWalletClient({ transport: custom(provider) });
    await paysWith(client, account.address);
    expect(provider.calls.map((c) => c.method)).toContain('eth_accounts');
    expect(provider.calls.filter((c) => c.method === 'eth_signTypedData_v4')).toHaveLength(1);
  });

  it('a raw EIP-1193 provider', async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const provider = fakeProvider(account);
    await paysWith(provider, account.address);
    const methods = provider.calls.map((c) => c.method);
    expect(methods.filter((m) => m === 'eth_signTypedData_v4')).toHaveLength(1);
    const [, json] = provider.calls.find((c) => c.method === 'eth_signTypedData_v4')!.params as [string, string];
    const typed = JSON.parse(json);
    expect(typed.types.EIP712Domain).toEqual([
      { name: 'name', type: 'string' },
      { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' },
      { name: 'verifyingContract', type: 'address' },
    ]);
    expect(typed.domain).toEqual({ name: 'USDC', version: '2', chainId: 84532, verifyingContract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e' });
    expect(typeof typed.message.value).toBe('string');
    expect(typed.message.value).toBe('10000');
  });

  it('a raw EIP-1193 provider with no connected account asks with eth_requestAccounts', async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const inner = fakeProvider(account);
    const methods: string[] = [];
    const provider = {
      request: async (args: { method: string; params?: unknown }) => {
        methods.push(args.method);
        if (args.method === 'eth_accounts') return [];
        return inner.request(args);
      },
    };
    await paysWith(provider, account.address);
    expect(methods.slice(0, 2)).toEqual(['eth_accounts', 'eth_requestAccounts']);
  });

  it('a plain { address, signTypedData } signer', async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const signer = countingSigner(account);
    await paysWith({ address: signer.address, signTypedData: signer.signTypedData }, account.address);
    expect(signer.calls).toBe(1);
  });
});

describe('wrong wallet shapes fail at wrapFetch time with a TypeError naming the problem', () => {
  const signTypedData = async () => '0x' as const;
  const cases: [string, unknown, RegExp][] = [
    ['{}', {}, /wallet: expected a viem LocalAccount.*got an object with keys \[\]/],
    ['null', null, /wallet: expected .*got null/],
    ['undefined', undefined, /wallet: expected .*got undefined/],
    ['a string', '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', /wallet: expected .*got string/],
    ['{ address: "nope", signTypedData }', { address: 'nope', signTypedData }, /wallet\.address must be a 0x-prefixed 20-byte hex address; got "nope"/],
    ['{ address: 42, signTypedData }', { address: 42, signTypedData }, /wallet\.address must be .*got number/],
    ['{ address } without signTypedData', { address: testAccount.address }, /wallet has an address but no signTypedData function\.$/],
    [
      'a JSON-RPC account { address, type: "json-rpc" }',
      { address: testAccount.address, type: 'json-rpc' },
      /no signTypedData function\. A JSON-RPC account cannot sign by itself: pass the WalletClient that holds it\./,
    ],
    ['{ signTypedData } without address', { signTypedData }, /got an object with keys \[signTypedData\]/],
    ['{ address, signTypedData: "yes" }', { address: testAccount.address, signTypedData: 'yes' }, /no signTypedData function/],
  ];
  for (const [label, wallet, message] of cases) {
    it(label, () => {
      let thrown: unknown;
      try {
        wrapFetch(fetch, wallet as WalletInput);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TypeError);
      expect((thrown as Error).message).toMatch(message);
    });
  }
});

describe('wallet failures', () => {
  async function walletFails(wallet: WalletInput) {
    const p = paywall({ url: URL_, challenge: () => challengeV2(paymentRequiredV2()) });
    server.use(p.handler);
    const error = await rejectionOf(wrapFetch(fetch, wallet)(URL_));
    expect(error).toBeInstanceOf(WalletError);
    expect(error.code).toBe('wallet_error');
    expect(error.moneyMoved).toBe('no');
    expect(p.seen).toHaveLength(1);
    expect(p.paid()).toHaveLength(0);
    return error as WalletError;
  }

  it('a signer that throws → WalletError, no payment header sent', async () => {
    let calls = 0;
    const cause = new Error('User rejected the request.');
    const error = await walletFails({
      address: testAccount.address,
      signTypedData: async () => {
        calls++;
        throw cause;
      },
    });
    expect(calls).toBe(1);
    expect(error.cause).toBe(cause);
    expect(error.message).toContain('could not sign the payment');
    expect(error.details['reason']).toBe('User rejected the request.');
  });

  it('a signer that throws a non-Error → WalletError', async () => {
    const error = await walletFails({
      address: testAccount.address,
      signTypedData: () => Promise.reject('nope'),
    });
    expect(error.details['reason']).toBe('nope');
  });

  it('an EIP-1193 provider that rejects the signature (4001) → WalletError', async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const inner = fakeProvider(account);
    await walletFails({
      request: async (args: { method: string; params?: unknown }) => {
        if (args.method === 'eth_signTypedData_v4') throw Object.assign(new Error('User rejected the request.'), { code: 4001 });
        return inner.request(args);
      },
    });
  });

  it('an EIP-1193 provider with no account at all → WalletError (address)', async () => {
    const error = await walletFails({ request: async () => [] });
    expect(error.message).toContain('could not give its address');
  });

  it('an EIP-1193 provider that returns a non-hex signature → WalletError', async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const inner = fakeProvider(account);
    await walletFails({
      request: async (args: { method: string; params?: unknown }) => (args.method === 'eth_signTypedData_v4' ? 'signed!' : inner.request(args)),
    });
  });

  it('a JSON-RPC WalletClient whose wallet refuses → WalletError', async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const inner = fakeProvider(account);
    const client = createWalletClient({
      account: account.address,
      transport: custom({
        request: async (args: { method: string; params?: unknown }) => {
          if (args.method === 'eth_signTypedData_v4') throw Object.assign(new Error('User rejected the request.'), { code: 4001 });
          return inner.request(args);
        },
      }),
    });
    await walletFails(client);
  });
});

describe('the wallet only ever signs EIP-3009 transfers', () => {
  it('any other primary type is refused before the signer sees it', async () => {
    const signer = countingSigner();
    const wallet = toWallet(signer, KNOWN_ASSETS);
    const permit = {
      domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e' },
      types: { Permit: [{ name: 'owner', type: 'address' }] },
      primaryType: 'Permit',
      message: { owner: testAccount.address },
    } as never;
    await expect(wallet.signTypedData(permit)).rejects.toThrow(/refusing to sign typed data of type Permit/);
    expect(signer.calls).toBe(0);
  });

  it('only for a token of the table or the declared ones, with its own EIP-712 domain (THREATS C6)', async () => {
    const signer = countingSigner();
    const wallet = toWallet(signer, KNOWN_ASSETS);
    const transfer = (domain: Record<string, unknown>) =>
      ({
        domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', ...domain },
        types: { TransferWithAuthorization: TRANSFER_WITH_AUTHORIZATION },
        primaryType: 'TransferWithAuthorization',
        message: { from: testAccount.address, to: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', value: 1n, validAfter: 0n, validBefore: 1n, nonce: `0x${'11'.repeat(32)}` },
      }) as never;
    for (const foreign of [
      { verifyingContract: '0x1111111111111111111111111111111111111111' },
      { chainId: 8453 },
      { name: 'USD Coin' },
      { version: '1' },
      { verifyingContract: undefined },
    ]) {
      await expect(wallet.signTypedData(transfer(foreign)), JSON.stringify(foreign)).rejects.toThrow(/refusing to sign for .*not a known or declared token/);
    }
    expect(signer.calls).toBe(0);
    await wallet.signTypedData(transfer({ verifyingContract: '0x036cbd53842c5426634e7929541ec2318f3dcf7e' }));
    expect(signer.calls).toBe(1);
  });

  it('toWallet picks the adapter by shape', () => {
    expect(toWallet(testAccount, KNOWN_ASSETS).kind).toBe('account');
    expect(toWallet(fakeProvider(), KNOWN_ASSETS).kind).toBe('eip1193');
    expect(toWallet(createWalletClient({ transport: custom(fakeProvider()) }), KNOWN_ASSETS).kind).toBe('walletClient');
  });
});
