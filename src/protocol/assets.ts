/** What the client knows about a token: enough to sign for it and to value it. */
export interface AssetInfo {
  /** CAIP-2 network, e.g. `eip155:8453`. */
  readonly network: string;
  /** Token contract address (any case; compared case-insensitively). */
  readonly address: string;
  /** Token decimals: the only source of units (a server's `extra.decimals` is never read). */
  readonly decimals: number;
  /** EIP-712 domain name the token signs with. */
  readonly name: string;
  /** EIP-712 domain version the token signs with. */
  readonly version: string;
  /** Ticker for humans. */
  readonly symbol: string;
  /** True when one whole token is worth one US dollar (budgets in USD apply). */
  readonly usdPegged: boolean;
  /** How the token is moved: EIP-3009 (supported) or Permit2 (not yet). */
  readonly transfer: 'eip3009' | 'permit2';
  /** True for tokens from the built-in table, false for tokens the caller declared. */
  readonly builtIn: boolean;
}

type Row = readonly [network: string, address: string, name: string, version: string, decimals: number, symbol: string, transfer?: 'permit2'];

/**
 * Known stablecoins (PROTOCOL.md §2.2): network, address, EIP-712 name and version, decimals.
 * A 402 naming one of these addresses must claim exactly this name and version.
 */
const KNOWN: readonly Row[] = [
  ['eip155:8453', '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', 'USD Coin', '2', 6, 'USDC'],
  ['eip155:84532', '0x036CbD53842c5426634e7929541eC2318f3dCF7e', 'USDC', '2', 6, 'USDC'],
  ['eip155:137', '0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359', 'USD Coin', '2', 6, 'USDC'],
  ['eip155:80002', '0x41E94Eb019C0762f9Bfcf9Fb1E58725BfB0e7582', 'USDC', '2', 6, 'USDC'],
  ['eip155:42161', '0xaf88d065e77c8cC2239327C5EDb3A432268e5831', 'USD Coin', '2', 6, 'USDC'],
  ['eip155:421614', '0x75faf114eafb1BDbe2F0316DF893fd58CE46AA4d', 'USD Coin', '2', 6, 'USDC'],
  ['eip155:43114', '0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E', 'USD Coin', '2', 6, 'USDC'],
  ['eip155:43113', '0x5425890298aed601595a70AB815c96711a31Bc65', 'USD Coin', '2', 6, 'USDC'],
  ['eip155:143', '0x754704Bc059F8C67012fEd69BC8A327a5aafb603', 'USD Coin', '2', 6, 'USDC'],
  ['eip155:1329', '0xe15fc38f6d8c56af07bbcbe3baf5708a2bf42392', 'USDC', '2', 6, 'USDC'],
  ['eip155:1328', '0x4fcf1784b31630811181f670aea7a7bef803eaed', 'USDC', '2', 6, 'USDC'],
  ['eip155:988', '0x779Ded0c9e1022225f8E0630b35a9b54bE713736', 'USDT0', '1', 6, 'USDT0'],
  ['eip155:2201', '0x78Cf24370174180738C5B8E352B6D14c83a6c9A9', 'USDT0', '1', 6, 'USDT0'],
  ['eip155:4326', '0xFAfDdbb3FC7688494971a79cc65DCa3EF82079E7', 'MegaUSD', '1', 18, 'MegaUSD', 'permit2'],
  ['eip155:31611', '0x118917a40FAF1CD7a13dB0Ef56C86De7973Ac503', 'Mezo USD', '1', 18, 'mUSD', 'permit2'],
];

/** Key of the asset tables: network plus lower-case address. */
export function assetKey(network: string, address: string): string {
  return `${network}|${address.toLowerCase()}`;
}

/** The built-in table of known stablecoins, keyed by {@link assetKey}. */
export const KNOWN_ASSETS: ReadonlyMap<string, AssetInfo> = new Map(
  KNOWN.map(([network, address, name, version, decimals, symbol, transfer]) => [
    assetKey(network, address),
    Object.freeze({ network, address, name, version, decimals, symbol, usdPegged: true, transfer: transfer ?? 'eip3009', builtIn: true }),
  ]),
);
