import { getAddress, isHex, type Address, type Hex } from 'viem';
import { transferAuthorizationDigest } from './transferAuthorizationDigest.js';
import type { TypedDataSigner, Wallet } from './types.js';

/**
 * Adapts a viem `LocalAccount` or any `{ address, signTypedData }` signer (CDP, Privy,
 * a KMS-backed signer) to the internal {@link Wallet}.
 *
 * A viem account whose key is in this process (`privateKeyToAccount`, `mnemonicToAccount`,
 * `hdKeyToAccount`) signs the EIP-712 digest directly (`account.sign({ hash })`): the digest
 * comes from {@link transferAuthorizationDigest} (domain separator cached per token), which is
 * exactly what the account's own `signTypedData` would hash, so the signature is the same bytes
 * for a fraction of the work. Every other signer (custom `toAccount` signers, remote and
 * custodial wallets) gets the typed data through its `signTypedData`, as always. A signer with
 * `signMessage` can also sign in (EIP-4361, the opt-in `signIn` option).
 */
export function accountWallet(signer: TypedDataSigner): Wallet {
  const address: Address = getAddress(signer.address);
  const signHash = localHashSigner(signer);
  return {
    kind: 'account',
    getAddress: async () => address,
    signTypedData: async (data) => {
      const hash = signHash ? transferAuthorizationDigest(data) : undefined;
      if (hash) return signHash!(hash);
      return (await signer.signTypedData({
        domain: data.domain,
        types: data.types,
        primaryType: data.primaryType,
        message: data.message,
      })) as Hex;
    },
    signMessage:
      typeof signer.signMessage === 'function'
        ? async (message) => hexSignature(await signer.signMessage!({ message }))
        : undefined,
  };
}

function hexSignature(signature: unknown): Hex {
  if (typeof signature !== 'string' || !isHex(signature)) throw new TypeError('the signer returned no hex signature');
  return signature;
}

/** The `sign({ hash })` of a viem local account whose key is in this process; undefined for any other signer. */
function localHashSigner(signer: TypedDataSigner): ((hash: Hex) => Promise<Hex>) | undefined {
  const account = signer as TypedDataSigner & { type?: unknown; source?: unknown; sign?: unknown };
  if (account.type !== 'local' || (account.source !== 'privateKey' && account.source !== 'hd')) return undefined;
  const sign = account.sign;
  if (typeof sign !== 'function') return undefined;
  return async (hash) => {
    const signature: unknown = await (sign as (args: { hash: Hex }) => Promise<unknown>).call(signer, { hash });
    if (typeof signature !== 'string') throw new TypeError('the account signed a hash but returned no hex signature');
    return signature as Hex;
  };
}
