import { privateKeyToAccount } from 'viem/accounts';
import { encodeBase64Json } from '../../src/protocol/codec.js';

/** Anvil/Hardhat test key #0 (public, never funded anywhere real). */
export const TEST_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' as const;
export const testAccount = privateKeyToAccount(TEST_KEY);

export const BASE_SEPOLIA_USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
export const BASE_USDC = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913';
export const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';

/** A v2 requirement on Base Sepolia USDC; override any field. */
export function requirementV2(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    scheme: 'exact',
    network: 'eip155:84532',
    amount: '10000',
    asset: BASE_SEPOLIA_USDC,
    payTo: PAY_TO,
    maxTimeoutSeconds: 60,
    extra: { name: 'USDC', version: '2' },
    ...overrides,
  };
}

/** A v2 PaymentRequired. */
export function paymentRequiredV2(accepts: unknown[] = [requirementV2()], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    x402Version: 2,
    error: 'Payment required',
    resource: { url: 'https://api.example.com/premium-data', description: 'premium', mimeType: 'application/json' },
    accepts,
    ...extra,
  };
}

/** A v1 requirement on base-sepolia USDC; override any field. */
export function requirementV1(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    scheme: 'exact',
    network: 'base-sepolia',
    maxAmountRequired: '10000',
    asset: BASE_SEPOLIA_USDC,
    payTo: PAY_TO,
    resource: 'https://api.example.com/premium-data',
    description: 'Access to premium market data',
    mimeType: 'application/json',
    outputSchema: null,
    maxTimeoutSeconds: 60,
    extra: { name: 'USDC', version: '2' },
    ...overrides,
  };
}

/** A v1 402 body. */
export function paymentRequiredV1(accepts: unknown[] = [requirementV1()]): Record<string, unknown> {
  return { x402Version: 1, error: 'X-PAYMENT header is required', accepts };
}

/** Headers of a v2 402. */
export function v2Headers(required: unknown): Record<string, string> {
  return { 'PAYMENT-REQUIRED': encodeBase64Json(required), 'Content-Type': 'application/json' };
}

/** A settlement header value. */
export function settlementHeader(fields: Record<string, unknown>): string {
  return encodeBase64Json(fields);
}

/** Decodes a base64 JSON header (test side, lenient). */
export function decodeHeader(value: string | null): Record<string, any> {
  if (value === null) throw new Error('header missing');
  return JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
}
