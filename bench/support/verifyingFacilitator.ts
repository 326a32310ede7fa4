import express from 'express';
import { getAddress, isAddress, isHex, verifyTypedData, type Address, type Hex } from 'viem';
import { listenOnLoopback, type LoopbackServer } from '../../examples/local-stack/http.js';

/**
 * An x402 v2 facilitator for benchmarks: it answers the three endpoints the official
 * `HTTPFacilitatorClient` calls, verifies every EIP-3009 payment for real (EIP-712 recovery of
 * the signer with viem, recipient, amount, network, validity window, nonce not seen before) and
 * "settles" without a chain: `success` with a random transaction hash. No anvil, no RPC, so the
 * server side of a paid request costs the same for every client measured against it.
 */

const TRANSFER_WITH_AUTHORIZATION = [
  { name: 'from', type: 'address' },
  { name: 'to', type: 'address' },
  { name: 'value', type: 'uint256' },
  { name: 'validAfter', type: 'uint256' },
  { name: 'validBefore', type: 'uint256' },
  { name: 'nonce', type: 'bytes32' },
] as const;

interface Verdict {
  readonly isValid: boolean;
  readonly invalidReason?: string;
  readonly payer?: Address;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Options of {@link startVerifyingFacilitator}. */
export interface VerifyingFacilitatorOptions {
  /** CAIP-2 network supported, e.g. `eip155:84532`. */
  readonly network: `${string}:${string}`;
}

/** A running benchmark facilitator. */
export interface VerifyingFacilitator extends LoopbackServer {
  /** verify and settle calls answered, and how many were refused. */
  readonly counts: { verify: number; settle: number; refused: number };
}

/** Starts the facilitator on 127.0.0.1 (ephemeral port). */
export async function startVerifyingFacilitator(options: VerifyingFacilitatorOptions): Promise<VerifyingFacilitator> {
  const chainId = Number(options.network.split(':')[1]);
  const settledNonces = new Set<string>();
  const counts = { verify: 0, settle: 0, refused: 0 };

  async function verify(body: unknown): Promise<Verdict> {
    if (!isObject(body) || !isObject(body.paymentPayload) || !isObject(body.paymentRequirements)) return { isValid: false, invalidReason: 'invalid_payload' };
    const payload = body.paymentPayload;
    const requirements = body.paymentRequirements;
    const accepted = isObject(payload.accepted) ? payload.accepted : undefined;
    const inner = isObject(payload.payload) ? payload.payload : undefined;
    const auth = inner && isObject(inner.authorization) ? inner.authorization : undefined;
    if (!accepted || !inner || !auth) return { isValid: false, invalidReason: 'invalid_payload' };
    const from = auth.from;
    if (typeof from !== 'string' || !isAddress(from)) return { isValid: false, invalidReason: 'invalid_payload' };
    const payer = getAddress(from);
    const refuse = (invalidReason: string): Verdict => ({ isValid: false, invalidReason, payer });
    if (requirements.scheme !== 'exact' || accepted.scheme !== 'exact') return refuse('unsupported_scheme');
    if (requirements.network !== options.network || accepted.network !== options.network) return refuse('invalid_network');
    const extra = isObject(requirements.extra) ? requirements.extra : {};
    if (typeof extra.name !== 'string' || typeof extra.version !== 'string') return refuse('missing_eip712_domain');
    if (typeof requirements.asset !== 'string' || !isAddress(requirements.asset)) return refuse('invalid_asset');
    if (typeof requirements.payTo !== 'string' || typeof auth.to !== 'string' || !isAddress(auth.to)) return refuse('invalid_payload');
    if (getAddress(auth.to) !== getAddress(requirements.payTo)) return refuse('invalid_exact_evm_payload_recipient_mismatch');
    const numbers = [auth.value, auth.validAfter, auth.validBefore];
    if (!numbers.every((n) => typeof n === 'string' && /^\d{1,78}$/.test(n))) return refuse('invalid_payload');
    if (typeof auth.nonce !== 'string' || !isHex(auth.nonce) || auth.nonce.length !== 66) return refuse('invalid_payload');
    if (typeof inner.signature !== 'string' || !isHex(inner.signature)) return refuse('invalid_payload');
    if (BigInt(auth.value as string) !== BigInt(String(requirements.amount))) return refuse('invalid_exact_evm_payload_authorization_value_mismatch');
    const now = BigInt(Math.floor(Date.now() / 1000));
    if (BigInt(auth.validBefore as string) < now + 6n) return refuse('invalid_exact_evm_payload_authorization_valid_before');
    if (BigInt(auth.validAfter as string) > now) return refuse('invalid_exact_evm_payload_authorization_valid_after');
    const valid = await verifyTypedData({
      address: payer,
      domain: { name: extra.name, version: extra.version, chainId, verifyingContract: getAddress(requirements.asset) },
      types: { TransferWithAuthorization: TRANSFER_WITH_AUTHORIZATION },
      primaryType: 'TransferWithAuthorization',
      message: {
        from: payer,
        to: getAddress(auth.to),
        value: BigInt(auth.value as string),
        validAfter: BigInt(auth.validAfter as string),
        validBefore: BigInt(auth.validBefore as string),
        nonce: auth.nonce as Hex,
      },
      signature: inner.signature as Hex,
    });
    if (!valid) return refuse('invalid_exact_evm_payload_signature');
    if (settledNonces.has(`${payer}:${(auth.nonce as string).toLowerCase()}`)) return refuse('invalid_exact_evm_payload_authorization_nonce_used');
    return { isValid: true, payer };
  }

  const app = express();
  app.use(express.json({ limit: '1mb' }));
  app.get('/supported', (_req, res) => {
    res.json({ kinds: [{ x402Version: 2, scheme: 'exact', network: options.network }], extensions: [], signers: { 'eip155:*': [] } });
  });
  app.post('/verify', (req, res, next) => {
    counts.verify++;
    verify(req.body).then((verdict) => {
      if (!verdict.isValid) counts.refused++;
      res.json(verdict);
    }, next);
  });
  app.post('/settle', (req, res, next) => {
    counts.settle++;
    verify(req.body).then((verdict) => {
      const network = isObject(req.body) && isObject(req.body.paymentRequirements) ? req.body.paymentRequirements.network : options.network;
      if (!verdict.isValid) {
        counts.refused++;
        res.json({ success: false, errorReason: verdict.invalidReason, transaction: '', network, payer: verdict.payer });
        return;
      }
      const auth = (req.body.paymentPayload.payload as Json).authorization as Json;
      settledNonces.add(`${verdict.payer}:${(auth.nonce as string).toLowerCase()}`);
      const transaction = `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}`;
      res.json({ success: true, transaction, network, payer: verdict.payer });
    }, next);
  });
  const server = await listenOnLoopback(app);
  return { ...server, counts };
}
