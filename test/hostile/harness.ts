/**
 * The hostile suite's harness (THREATS.md §1): a hostile server H and a canary origin C, both
 * real HTTP servers on loopback; a signer that counts and records every signing call; ledger
 * snapshots before and after; and an unhandled-rejection tripwire.
 *
 * REFUSE(code) = a typed error with that stable `code` and `moneyMoved: 'no'`, 0 signer calls,
 * no payment header at any origin, the ledger unchanged, no key in the error, no unhandled
 * rejection, and the process (and its servers) still answering.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Hex } from 'viem';
import type { PrivateKeyAccount } from 'viem/accounts';
import { isX402Error, memoryStore, wrapFetch, type PaidFetch, type WrapFetchOptions, type PaymentEvent, type DeniedEvent, type ErrorEvent, type ResendEvent, type X402Error } from '../../src/index.js';
import { testAccount } from '../support/challenges.js';
import { expectNoSecrets } from '../support/secrets.js';
import { installTestDns, startHostileServer, type HostileServer } from './hostileServer.js';

/** The virtual host that plays the API. */
export const API = 'api.hostile.test';

/** A signer that counts and records every call (typed data as asked). */
export interface RecordingSigner {
  readonly address: `0x${string}`;
  calls: number;
  readonly typed: Array<{ domain: Record<string, unknown>; primaryType: string; message: Record<string, unknown> }>;
  signTypedData(args: any): Promise<Hex>;
}

export function recordingSigner(account: PrivateKeyAccount = testAccount): RecordingSigner {
  const signer: RecordingSigner = {
    address: account.address,
    calls: 0,
    typed: [],
    signTypedData(args) {
      signer.calls++;
      signer.typed.push(args);
      return account.signTypedData(args);
    },
  };
  return signer;
}

/** A wrapped fetch with everything a test observes. */
export interface Client {
  readonly paidFetch: PaidFetch;
  readonly signer: RecordingSigner;
  readonly events: { payment: PaymentEvent[]; denied: DeniedEvent[]; error: ErrorEvent[]; resend: ResendEvent[] };
}

export interface Hostile {
  /** H: the hostile server (many virtual hosts). */
  readonly server: HostileServer;
  /** C: the canary origin; it must never receive a payment header. */
  readonly canary: HostileServer;
  /** `http://api.hostile.test:<port><path>` (or another virtual host). */
  url(path: string, host?: string): string;
  /** A wrapped fetch over plain HTTP on loopback (the suite opts in with allowInsecureHttp); `fetchImpl` defaults to the global fetch. */
  client(options?: WrapFetchOptions, signer?: RecordingSigner, fetchImpl?: typeof fetch): Client;
  /** Asserts REFUSE(code) around `run`; returns the error. */
  expectRefused(c: Client, run: () => Promise<unknown>, expected: Expected): Promise<X402Error & Record<string, any>>;
  /** Unhandled rejections and uncaught exceptions seen so far. */
  readonly tripwire: unknown[];
}

export interface Expected {
  readonly code: string;
  /** `InvalidChallengeError.reason`. */
  readonly reason?: string;
  /** A refusal code expected among `NoAcceptableOptionError.refusals`. */
  readonly refusal?: string;
}

/** Ledger snapshot: the spend report and the remaining room. */
export async function snapshot(c: Client) {
  return { report: await c.paidFetch.budget.report(), remaining: await c.paidFetch.budget.remaining() };
}

/** Sets up H and C for a test file. */
export function useHostile(): Hostile {
  let server: HostileServer | undefined;
  let canary: HostileServer | undefined;
  const tripwire: unknown[] = [];
  const onRejection = (reason: unknown) => tripwire.push(reason);
  const health = (s: HostileServer) => s.route('*', '/__health', (_q, res) => void res.writeHead(200).end('ok'));

  beforeAll(async () => {
    installTestDns();
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onRejection);
    server = await startHostileServer();
    canary = await startHostileServer();
    health(server);
    health(canary);
  });
  afterEach(() => {
    server?.reset();
    canary?.reset();
    if (server) health(server);
    if (canary) health(canary);
  });
  afterAll(async () => {
    await server?.close();
    await canary?.close();
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onRejection);
    expect(tripwire).toEqual([]);
  });

  const alive = async () => {
    for (const s of [server!, canary!]) {
      const res = await fetch(s.url('alive.test', '/__health'));
      expect(res.status).toBe(200);
      await res.text();
    }
  };

  const hostile: Hostile = {
    get server() {
      return server!;
    },
    get canary() {
      return canary!;
    },
    url: (path, host = API) => server!.url(host, path),
    client(options = {}, signer = recordingSigner(), fetchImpl = fetch) {
      const events: Client['events'] = { payment: [], denied: [], error: [], resend: [] };
      const paidFetch = wrapFetch(fetchImpl, signer, {
        allowInsecureHttp: true,
        store: memoryStore(),
        ...options,
        on: {
          payment: (e) => {
            events.payment.push(e);
            options.on?.payment?.(e);
          },
          denied: (e) => {
            events.denied.push(e);
            options.on?.denied?.(e);
          },
          error: (e) => {
            events.error.push(e);
            options.on?.error?.(e);
          },
          resend: (e) => {
            events.resend.push(e);
            options.on?.resend?.(e);
          },
        },
      });
      return { paidFetch, signer, events };
    },
    async expectRefused(c, run, expected) {
      const before = await snapshot(c);
      const calls = c.signer.calls;
      const headers = server!.paymentHeaders().length + canary!.paymentHeaders().length;
      let error: unknown;
      let result: unknown;
      try {
        result = await run();
      } catch (e) {
        error = e;
      }
      if (error === undefined) {
        if (result instanceof Response) await result.body?.cancel();
        throw new Error(`expected REFUSE(${expected.code}), but the call answered ${result instanceof Response ? result.status : String(result)}`);
      }
      expect(isX402Error(error), `expected an X402Error, got ${String(error)}`).toBe(true);
      const e = error as X402Error & Record<string, any>;
      expect(e.code).toBe(expected.code);
      expect(e.moneyMoved).toBe('no');
      if (expected.reason !== undefined) expect(e.reason).toBe(expected.reason);
      if (expected.refusal !== undefined) expect(e.refusals.map((r: { code: string }) => r.code)).toContain(expected.refusal);
      expect(c.signer.calls, 'the signer was called').toBe(calls);
      expect(server!.paymentHeaders().length + canary!.paymentHeaders().length, 'a payment header reached a server').toBe(headers);
      expect(await snapshot(c), 'the ledger changed').toEqual(before);
      expectNoSecrets(e);
      expect(tripwire).toEqual([]);
      await alive();
      return e;
    },
    tripwire,
  };
  return hostile;
}

/** Asserts ONE: exactly one signature, to `to` for `value`, sent `sends` times (default once) as the same header; returns that header. */
export function expectOneSignature(c: Client, h: Hostile, expected: { to: string; value: bigint }, { sends = 1 }: { sends?: number } = {}) {
  expect(c.signer.calls).toBe(1);
  const headers = h.server.paymentHeaders();
  // A resend repeats the very same header: one authorization, however often it was sent.
  expect(headers).toHaveLength(sends);
  expect(new Set(headers).size).toBe(1);
  expect(h.canary.paymentHeaders()).toHaveLength(0);
  const typed = c.signer.typed[0]!;
  expect(typed.primaryType).toBe('TransferWithAuthorization');
  expect(String(typed.message['to']).toLowerCase()).toBe(expected.to.toLowerCase());
  expect(typed.message['value']).toBe(expected.value);
  return headers[0]!;
}
