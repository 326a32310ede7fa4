/**
 * Prepay latency: the median wall time of one paid call to a place already paid, with opt-in
 * `prepay: true` (one round trip) against the usual flow (402, then the paid retry: two round
 * trips), in the same run, interleaved. The server adds 20 ms of latency to every response, as
 * the performance issue asks; it answers like an x402 v2 server (a `PAYMENT-REQUIRED` 402 for an
 * unpaid request, a 200 with a settled `PAYMENT-RESPONSE` for a paid one) without verifying
 * signatures, since only round trips are measured here.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { privateKeyToAccount } from 'viem/accounts';
import { wrapFetch } from '../src/index.js';
import { formatDuration, formatRatio, median, QUICK, table } from './support/stats.js';

/** Added to every response, in ms. */
export const LATENCY_MS = 20;
const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' as const;
const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';

/** The result of {@link runPrepay}. */
export interface PrepayResult {
  /** Median ms of a call through the usual 402 flow. */
  readonly twoTrips: number;
  /** Median ms of a prepaid call. */
  readonly prepaid: number;
  /** prepaid / twoTrips. */
  readonly ratio: number;
  readonly calls: number;
}

function startServer(): Promise<{ url: string; server: Server }> {
  const required = Buffer.from(
    JSON.stringify({
      x402Version: 2,
      error: 'Payment required',
      resource: { url: 'http://127.0.0.1/paid', description: '', mimeType: 'application/json' },
      accepts: [
        {
          scheme: 'exact',
          network: 'eip155:84532',
          amount: '1000',
          asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
          payTo: PAY_TO,
          maxTimeoutSeconds: 60,
          extra: { name: 'USDC', version: '2' },
        },
      ],
    }),
  ).toString('base64');
  const payer = privateKeyToAccount(KEY).address;
  let tx = 0;
  const server = createServer((req, res) => {
    setTimeout(() => {
      if (!req.headers['payment-signature']) {
        res.writeHead(402, { 'PAYMENT-REQUIRED': required, 'content-type': 'application/json' }).end('{}');
        return;
      }
      const receipt = { success: true, transaction: `0x${(++tx).toString(16).padStart(64, '0')}`, network: 'eip155:84532', payer };
      res.writeHead(200, { 'PAYMENT-RESPONSE': Buffer.from(JSON.stringify(receipt)).toString('base64'), 'content-type': 'application/json' }).end('{"ok":true}');
    }, LATENCY_MS);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/paid`, server })));
}

/** Measures both flows, interleaved, `calls` times each (after a warm-up). */
export async function runPrepay(calls = QUICK ? 40 : 150): Promise<PrepayResult> {
  const { url, server } = await startServer();
  try {
    const budget = { perRequest: '0.01', daily: 'unlimited', maxPayments: { perMinute: 1_000_000 } } as const;
    const usual = wrapFetch(fetch, privateKeyToAccount(KEY), { budget });
    const prepaying = wrapFetch(fetch, privateKeyToAccount(KEY), { budget, prepay: { ttlMs: 600_000 } });
    await usual(url);
    await prepaying(url); // pays the usual way once, then remembers the terms
    const twoTrips: number[] = [];
    const prepaid: number[] = [];
    for (let i = 0; i < calls; i++) {
      for (const [paidFetch, samples] of i % 2 === 0 ? ([[usual, twoTrips], [prepaying, prepaid]] as const) : ([[prepaying, prepaid], [usual, twoTrips]] as const)) {
        const t = performance.now();
        const response = await paidFetch(url);
        await response.arrayBuffer();
        samples.push(performance.now() - t);
      }
    }
    const result = { twoTrips: median(twoTrips), prepaid: median(prepaid), calls };
    return { ...result, ratio: result.prepaid / result.twoTrips };
  } finally {
    server.close();
  }
}

/** A table of {@link PrepayResult}. */
export function formatPrepay(r: PrepayResult): string {
  return table(
    ['flow', `median latency per paid call (${r.calls} calls, +${LATENCY_MS} ms per response)`],
    [
      ['usual: 402, then paid retry', formatDuration(r.twoTrips)],
      ['prepay: paid first request', formatDuration(r.prepaid)],
      ['ratio prepaid / usual', formatRatio(r.ratio)],
    ],
  );
}

if (process.argv[1]?.endsWith('prepay.ts')) console.log(formatPrepay(await runPrepay()));
