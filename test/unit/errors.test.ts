import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  BudgetExceededError,
  InvalidChallengeError,
  isX402Error,
  NoAcceptableOptionError,
  PaymentRejectedError,
  RequestBodyTooLargeError,
  SettlementUnknownError,
  UnsupportedVersionError,
  WalletError,
  wrapFetch,
  X402Error,
  type WalletInput,
  type WrapFetchOptions,
} from '../../src/index.js';
import { challengeV1, challengeV2, paywall, useMswServer, type SeenRequest } from '../support/msw.js';
import { paymentRequiredV1, paymentRequiredV2, requirementV2, settlementHeader } from '../support/challenges.js';
import { canaryAccount, CANARY_KEY, countingSigner } from '../support/signers.js';
import { expectNoSecrets, renderings } from '../support/secrets.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/premium-data';

interface Scenario {
  readonly name: string;
  readonly type: new (...args: never[]) => X402Error;
  readonly code: string;
  readonly moneyMoved: 'no' | 'maybe';
  readonly challenge: () => Response;
  readonly paid?: (seen: SeenRequest) => Response;
  readonly wallet?: WalletInput;
  readonly options?: WrapFetchOptions;
  readonly init?: () => RequestInit;
}

/** Every failure the wrapped fetch can end in, all with the canary wallet. */
const scenarios: Scenario[] = [
  {
    name: 'invalid challenge',
    type: InvalidChallengeError,
    code: 'invalid_challenge',
    moneyMoved: 'no',
    challenge: () => new HttpResponse('{}', { status: 402, headers: { 'PAYMENT-REQUIRED': 'not base64!' } }),
  },
  {
    name: 'unsupported version',
    type: UnsupportedVersionError,
    code: 'unsupported_version',
    moneyMoved: 'no',
    challenge: () => challengeV2({ ...paymentRequiredV2(), x402Version: 3 }),
  },
  {
    name: 'no acceptable option',
    type: NoAcceptableOptionError,
    code: 'no_acceptable_option',
    moneyMoved: 'no',
    challenge: () => challengeV2(paymentRequiredV2([requirementV2({ scheme: 'upto' })])),
  },
  {
    name: 'budget exceeded',
    type: BudgetExceededError,
    code: 'budget_exceeded',
    moneyMoved: 'no',
    challenge: () => challengeV2(paymentRequiredV2([requirementV2({ amount: '5000000' })])),
  },
  {
    name: 'wallet error',
    type: WalletError,
    code: 'wallet_error',
    moneyMoved: 'no',
    challenge: () => challengeV2(paymentRequiredV2()),
    wallet: {
      address: canaryAccount.address,
      signTypedData: async () => {
        throw new Error('device locked');
      },
    },
  },
  {
    name: 'payment rejected (v2 settle failure)',
    type: PaymentRejectedError,
    code: 'payment_rejected',
    moneyMoved: 'maybe',
    challenge: () => challengeV2(paymentRequiredV2()),
    paid: () =>
      HttpResponse.json({}, { status: 402, headers: { 'PAYMENT-RESPONSE': settlementHeader({ success: false, errorReason: 'insufficient_funds', network: 'eip155:84532' }) } }),
  },
  {
    name: 'payment rejected (v1 body)',
    type: PaymentRejectedError,
    code: 'payment_rejected',
    moneyMoved: 'maybe',
    challenge: () => challengeV1(paymentRequiredV1()),
    paid: () => challengeV1({ ...paymentRequiredV1(), error: 'invalid_exact_evm_payload_signature' }),
  },
  {
    name: 'settlement unknown (network error)',
    type: SettlementUnknownError,
    code: 'settlement_unknown',
    moneyMoved: 'maybe',
    challenge: () => challengeV2(paymentRequiredV2()),
    paid: () => HttpResponse.error(),
  },
  {
    name: 'settlement unknown (500)',
    type: SettlementUnknownError,
    code: 'settlement_unknown',
    moneyMoved: 'maybe',
    challenge: () => challengeV2(paymentRequiredV2()),
    paid: () => HttpResponse.text('oops', { status: 500 }),
  },
  {
    name: 'request body too large',
    type: RequestBodyTooLargeError,
    code: 'request_body_too_large',
    moneyMoved: 'no',
    challenge: () => challengeV2(paymentRequiredV2()),
    options: { maxRequestBodyBytes: 10 },
    init: () =>
      ({
        method: 'POST',
        body: new Blob(['x'.repeat(100)]).stream(),
        duplex: 'half',
      }) as RequestInit,
  },
];

async function run(s: Scenario): Promise<X402Error> {
  const p = paywall({ url: URL_, challenge: s.challenge, paid: s.paid });
  server.use(p.handler);
  try {
    await wrapFetch(fetch, s.wallet ?? countingSigner(canaryAccount), s.options)(URL_, s.init?.());
  } catch (error) {
    return error as X402Error;
  }
  throw new Error(`${s.name}: expected a rejection`);
}

describe('every error', () => {
  for (const s of scenarios) {
    describe(s.name, () => {
      it('has its class, code and moneyMoved', async () => {
        const error = await run(s);
        expect(error).toBeInstanceOf(s.type);
        expect(error).toBeInstanceOf(X402Error);
        expect(error).toBeInstanceOf(Error);
        expect(error.name).toBe(s.type.name);
        expect(error.code).toBe(s.code);
        expect(error.moneyMoved).toBe(s.moneyMoved);
      });

      it('says in its message whether money may have moved, and links its docs', async () => {
        const error = await run(s);
        expect(error.message.startsWith(error.shortMessage)).toBe(true);
        if (s.moneyMoved === 'no') {
          expect(error.message).toContain('Money moved: no');
          expect(error.message).not.toContain('Money moved: maybe');
        } else {
          expect(error.message).toContain('Money moved: maybe');
          expect(error.message).not.toContain('Money moved: no');
        }
        expect(error.message).toMatch(new RegExp(`\\nDocs: \\S+#${s.code}$`));
        expect(error.message).toContain(`url: ${URL_}`);
      });

      it('toJSON has code, message and moneyMoved, and nothing heavy', async () => {
        const error = await run(s);
        const json = error.toJSON();
        expect(json).toMatchObject({ name: s.type.name, code: s.code, message: error.shortMessage, moneyMoved: s.moneyMoved });
        expect(Object.keys(json).sort()).toEqual(['code', 'details', 'hint', 'message', 'moneyMoved', 'name']);
        const parsed = JSON.parse(JSON.stringify(error));
        expect(parsed).toMatchObject({ code: s.code, moneyMoved: s.moneyMoved, message: error.shortMessage });
        expect(JSON.stringify(error)).not.toContain('"response"');
      });

      it('isX402Error recognises it', async () => {
        expect(isX402Error(await run(s))).toBe(true);
      });

      it('never contains the private key, however it is rendered', async () => {
        const error = await run(s);
        expectNoSecrets(error);
        const key = CANARY_KEY.slice(2).toLowerCase();
        for (const text of renderings(error)) expect(text).not.toContain(key);
        // And neither any payment header value (bearer instrument).
        expect(JSON.stringify(error)).not.toMatch(/eyJ4NDAyVmVyc2lvbiI6/);
      });
    });
  }
});

describe('isX402Error', () => {
  it('is false for other values', () => {
    expect(isX402Error(new Error('x'))).toBe(false);
    expect(isX402Error(new TypeError('x'))).toBe(false);
    expect(isX402Error({ code: 'budget_exceeded', moneyMoved: 'no' })).toBe(false);
    expect(isX402Error(null)).toBe(false);
    expect(isX402Error(undefined)).toBe(false);
    expect(isX402Error('budget_exceeded')).toBe(false);
  });

  it('works across copies of the library (shared brand)', () => {
    const foreign = new Error('from another copy');
    Object.defineProperty(foreign, Symbol.for('x402-autopay.error'), { value: true });
    expect(isX402Error(foreign)).toBe(true);
  });
});

describe('the base error layout', () => {
  it('fact lines, hint and cause', () => {
    const cause = new Error('root');
    const error = new X402Error('Short.', { code: 'some_code', moneyMoved: 'no', details: { a: 1, b: undefined, c: 2n }, hint: 'Do this.', cause });
    const lines = error.message.split('\n');
    expect(lines.slice(0, -1)).toEqual(['Short.', '', 'a: 1', 'c: 2', 'Money moved: no (nothing was sent that could be settled).', 'What to do: Do this.']);
    expect(lines.at(-1)).toMatch(/^Docs: \S+#some_code$/);
    expect(error.details).toEqual({ a: '1', c: '2' });
    expect(error.cause).toBe(cause);
    expect(error.hint).toBe('Do this.');
  });

  it('maybe', () => {
    const error = new X402Error('Short.', { code: 'c', moneyMoved: 'maybe' });
    expect(error.message).toContain('Money moved: maybe (a signed payment reached the server and can be settled until it expires).');
    expect(error.cause).toBeUndefined();
  });
});

describe('docs/errors.md', () => {
  it('has a table row and a section for every code an error of the SDK carries', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const docs = readFileSync(join(root, 'docs/errors.md'), 'utf8');
    // The neutral errors, and the X402Errors of the platform entries (src/node/*Error.ts).
    const files = [
      ...readdirSync(join(root, 'src/errors')).map((file) => join(root, 'src/errors', file)),
      ...readdirSync(join(root, 'src/node')).filter((file) => file.endsWith('Error.ts')).map((file) => join(root, 'src/node', file)),
    ];
    const codes = new Set(files.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/code: '([a-z_]+)'/g)].map((m) => m[1]!)));
    expect(codes.size).toBeGreaterThanOrEqual(17);
    expect(codes).toContain('request_blocked');
    for (const code of codes) {
      expect(docs, code).toContain(`\n## ${code}\n`);
      expect(docs, code).toMatch(new RegExp(`^\\| \`${code}\` \\|`, 'm'));
    }
  });
});
