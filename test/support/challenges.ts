import { privateKeyToAccount } from 'viem/accounts';
import { encodeBase64Json } from '../../src/protocol/codec.js';

/** Anvil/Hardhat test key #0 (public, never funded anywhere real). */
export const TEST_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' as const;
export const testAccount = privateKeyToAccount(TEST_KEY);

export const BASE_SEPOLIA_USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
export const BASE_USDC = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913';
export const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';
/** A non-USD test token on Base Sepolia, as a caller declares it in `options.assets` (add limits). */
export const DECLARED_TOKEN = Object.freeze({
  network: 'eip155:84532',
  address: '0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238',
  decimals: 18,
  name: 'Test Token',
  version: '1',
  symbol: 'TT',
});

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

// ---------------------------------------------------------------------------------------------
// PROTOCOL.md §9 test vectors, copied verbatim.

/** §9 V1: the spec's v1 402 body (note `outputSchema: null`). */
export const V1_BODY =
  '{"x402Version":1,"error":"X-PAYMENT header is required","accepts":[{"scheme":"exact","network":"base-sepolia","maxAmountRequired":"10000","asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","resource":"https://api.example.com/premium-data","description":"Access to premium market data","mimeType":"application/json","outputSchema":null,"maxTimeoutSeconds":60,"extra":{"name":"USDC","version":"2"}}]}';

/** §9 V2: the decoded JSON of the spec's v2 `PAYMENT-REQUIRED` header. */
export const V2_JSON =
  '{"x402Version":2,"error":"PAYMENT-SIGNATURE header is required","resource":{"url":"https://api.example.com/premium-data","description":"Access to premium market data","mimeType":"application/json"},"accepts":[{"scheme":"exact","network":"eip155:84532","amount":"10000","asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","maxTimeoutSeconds":60,"extra":{"name":"USDC","version":"2"}}]}';

/** §9 V2: the spec's v2 `PAYMENT-REQUIRED` header value (584 characters). */
export const V2_HEADER =
  'eyJ4NDAyVmVyc2lvbiI6MiwiZXJyb3IiOiJQQVlNRU5ULVNJR05BVFVSRSBoZWFkZXIgaXMgcmVxdWlyZWQiLCJyZXNvdXJjZSI6eyJ1cmwiOiJodHRwczovL2FwaS5leGFtcGxlLmNvbS9wcmVtaXVtLWRhdGEiLCJkZXNjcmlwdGlvbiI6IkFjY2VzcyB0byBwcmVtaXVtIG1hcmtldCBkYXRhIiwibWltZVR5cGUiOiJhcHBsaWNhdGlvbi9qc29uIn0sImFjY2VwdHMiOlt7InNjaGVtZSI6ImV4YWN0IiwibmV0d29yayI6ImVpcDE1NTo4NDUzMiIsImFtb3VudCI6IjEwMDAwIiwiYXNzZXQiOiIweDAzNkNiRDUzODQyYzU0MjY2MzRlNzkyOTU0MWVDMjMxOGYzZENGN2UiLCJwYXlUbyI6IjB4MjA5NjkzQmM2YWZjMEM1MzI4YkEzNkZhRjAzQzUxNEVGMzEyMjg3QyIsIm1heFRpbWVvdXRTZWNvbmRzIjo2MCwiZXh0cmEiOnsibmFtZSI6IlVTREMiLCJ2ZXJzaW9uIjoiMiJ9fV19';

/** §9 V3: the decoded JSON of the spec's v2 `PAYMENT-SIGNATURE` (1088 base64 characters). */
export const V3_JSON =
  '{"x402Version":2,"resource":{"url":"https://api.example.com/premium-data","description":"Access to premium market data","mimeType":"application/json"},"accepted":{"scheme":"exact","network":"eip155:84532","amount":"10000","asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","maxTimeoutSeconds":60,"extra":{"name":"USDC","version":"2"}},"payload":{"signature":"0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c","authorization":{"from":"0x857b06519E91e3A54538791bDbb0E22373e36b66","to":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","value":"10000","validAfter":"1740672089","validBefore":"1740672154","nonce":"0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"}}}';

/** §9 V4: v2 success settlement header and its JSON. */
export const V4_SUCCESS_HEADER =
  'eyJzdWNjZXNzIjp0cnVlLCJ0cmFuc2FjdGlvbiI6IjB4MTIzNDU2Nzg5MGFiY2RlZjEyMzQ1Njc4OTBhYmNkZWYxMjM0NTY3ODkwYWJjZGVmMTIzNDU2Nzg5MGFiY2RlZiIsIm5ldHdvcmsiOiJlaXAxNTU6ODQ1MzIiLCJwYXllciI6IjB4ODU3YjA2NTE5RTkxZTNBNTQ1Mzg3OTFiRGJiMEUyMjM3M2UzNmI2NiJ9';
export const V4_SUCCESS_JSON =
  '{"success":true,"transaction":"0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef","network":"eip155:84532","payer":"0x857b06519E91e3A54538791bDbb0E22373e36b66"}';
/** §9 V4: v2 failure settlement header and its JSON (the payer written out in full). */
export const V4_FAILURE_HEADER =
  'eyJzdWNjZXNzIjpmYWxzZSwiZXJyb3JSZWFzb24iOiJpbnN1ZmZpY2llbnRfZnVuZHMiLCJ0cmFuc2FjdGlvbiI6IiIsIm5ldHdvcmsiOiJlaXAxNTU6ODQ1MzIiLCJwYXllciI6IjB4ODU3YjA2NTE5RTkxZTNBNTQ1Mzg3OTFiRGJiMEUyMjM3M2UzNmI2NiJ9';
export const V4_FAILURE_JSON =
  '{"success":false,"errorReason":"insufficient_funds","transaction":"","network":"eip155:84532","payer":"0x857b06519E91e3A54538791bDbb0E22373e36b66"}';
/** §9 V4: the transaction hash of the success vector. */
export const V4_TX = '0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef';

/** §9 V5: the spec's known-good EIP-3009 typed data (domain and message). */
export const V5_DOMAIN = {
  name: 'USDC',
  version: '2',
  chainId: 84532,
  verifyingContract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
} as const;
export const V5_MESSAGE = {
  from: '0x857b06519E91e3A54538791bDbb0E22373e36b66',
  to: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C',
  value: 10000n,
  validAfter: 1740672089n,
  validBefore: 1740672154n,
  nonce: '0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480',
} as const;
/** The payer of the spec's examples (V3–V5); its key is not known. */
export const V5_PAYER = '0x857b06519E91e3A54538791bDbb0E22373e36b66' as const;
export const V5_DOMAIN_SEPARATOR = '0x71f17a3b2ff373b803d70a5a07c046c1a2bc8e89c09ef722fcb047abe94c9818';
export const V5_DIGEST = '0xf256992871671abcb27ff92885a7afa46218724e5fc0bac35d050115aa1d22e6';
export const V5_SIGNATURE =
  '0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c' as const;
/** §9 V6: V5's message with `from` = TEST_KEY's address, signed by TEST_KEY. */
export const V6_DIGEST = '0x50708d3bf7216e1aeabe7bf22081b9f36c7c287530f92510318f13a03d89dc86';
export const V6_SIGNATURE =
  '0xdc53a4a579de989368a0fae2ef2172ff2f474b4297013f865d171239f17ef4c3157b4b4030f1bebc53d55ace15c2377dff501a60e1e56c291f1000d6e78f082f1b' as const;
