/** x402 v1 network names and their CAIP-2 ids (PROTOCOL.md §2.1). */
const V1_NETWORKS: Readonly<Record<string, string>> = {
  ethereum: 'eip155:1',
  sepolia: 'eip155:11155111',
  base: 'eip155:8453',
  'base-sepolia': 'eip155:84532',
  avalanche: 'eip155:43114',
  'avalanche-fuji': 'eip155:43113',
  polygon: 'eip155:137',
  'polygon-amoy': 'eip155:80002',
  abstract: 'eip155:2741',
  'abstract-testnet': 'eip155:11124',
  iotex: 'eip155:4689',
  sei: 'eip155:1329',
  'sei-testnet': 'eip155:1328',
  peaq: 'eip155:3338',
  story: 'eip155:1514',
  educhain: 'eip155:41923',
  'skale-base-sepolia': 'eip155:324705682',
  megaeth: 'eip155:4326',
  monad: 'eip155:143',
  stable: 'eip155:988',
  'stable-testnet': 'eip155:2201',
  solana: 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp',
  'solana-devnet': 'solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1',
  'solana-testnet': 'solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z',
};

const EIP155 = /^eip155:([1-9][0-9]{0,15})$/;

/** The x402 v1 name of a CAIP-2 network (`eip155:8453` → `base`), or undefined when v1 has none. */
export function caip2ToV1Network(network: string): string | undefined {
  return Object.keys(V1_NETWORKS).find((name) => V1_NETWORKS[name] === network);
}

/** The CAIP-2 id of a v1 network name, or undefined when the name is unknown. */
export function v1NetworkToCaip2(name: string): string | undefined {
  return Object.hasOwn(V1_NETWORKS, name) ? V1_NETWORKS[name] : undefined;
}

/**
 * The EVM chain id of a CAIP-2 network, strictly: `eip155:` then a decimal without leading
 * zeros that is a safe integer. `eip155:8453abc`, `eip155:08453`, `EIP155:8453` and
 * `eip155:8453 ` all give undefined.
 */
export function evmChainId(network: string): number | undefined {
  const match = EIP155.exec(network);
  if (!match?.[1]) return undefined;
  const id = Number(match[1]);
  return Number.isSafeInteger(id) ? id : undefined;
}
