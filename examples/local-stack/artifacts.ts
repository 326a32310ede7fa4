import { readFileSync } from 'node:fs';
import type { Abi, Hex } from 'viem';

/** A compiled contract as written by `npm run build:token` (`contracts/<Name>.json`). */
export interface ContractArtifact {
  /** Contract name, e.g. `TestUSDC`. */
  contractName: string;
  /** The compiler that produced it, e.g. `solc 0.8.37+commit.f401782d...`. */
  compiler: string;
  /** The full ABI as emitted by solc (untyped; use the typed ABIs in `token.ts` for calls). */
  abi: Abi;
  /** Creation bytecode (0x-prefixed). */
  bytecode: Hex;
  /** Runtime bytecode (0x-prefixed), the code that `anvil_setCode` places at an address. */
  deployedBytecode: Hex;
}

/** Names of the checked-in artifacts under `contracts/`. */
export type ArtifactName = 'TestUSDC' | 'LocalMulticall';

const cache = new Map<ArtifactName, ContractArtifact>();

/**
 * Loads a checked-in contract artifact from `contracts/<name>.json` (no compilation needed).
 *
 * @param name - The contract name.
 * @returns The parsed artifact (cached after the first read).
 * @throws If the file is missing or malformed; run `npm run build:token` to regenerate it.
 */
export function loadArtifact(name: ArtifactName): ContractArtifact {
  const cached = cache.get(name);
  if (cached) return cached;
  const url = new URL(`../../contracts/${name}.json`, import.meta.url);
  const parsed = JSON.parse(readFileSync(url, 'utf8')) as Partial<ContractArtifact>;
  if (
    !Array.isArray(parsed.abi) ||
    typeof parsed.bytecode !== 'string' ||
    !parsed.bytecode.startsWith('0x') ||
    typeof parsed.deployedBytecode !== 'string' ||
    !parsed.deployedBytecode.startsWith('0x')
  ) {
    throw new Error(`contracts/${name}.json is not a valid artifact; run \`npm run build:token\`.`);
  }
  const artifact = parsed as ContractArtifact;
  cache.set(name, artifact);
  return artifact;
}
