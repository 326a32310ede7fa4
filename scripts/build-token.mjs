#!/usr/bin/env node
// Compiles the local-stack contracts with solc-js and writes one artifact per contract
// (contracts/<Name>.json = { contractName, compiler, abi, bytecode, deployedBytecode }).
// The artifacts are checked in so tests never need to compile. Run: npm run build:token
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const contractsDir = join(root, 'contracts');

/** Contracts to build: source file name -> contract name. */
const CONTRACTS = [
  { file: 'TestUSDC.sol', name: 'TestUSDC' },
  { file: 'LocalMulticall.sol', name: 'LocalMulticall' },
];

const input = {
  language: 'Solidity',
  sources: Object.fromEntries(
    CONTRACTS.map(({ file }) => [file, { content: readFileSync(join(contractsDir, file), 'utf8') }]),
  ),
  settings: {
    optimizer: { enabled: true, runs: 200 },
    // Cancun is supported by every anvil release the project may use.
    evmVersion: 'cancun',
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
for (const diagnostic of output.errors ?? []) {
  console.error(diagnostic.formattedMessage);
}
if (errors.length > 0) {
  process.exit(1);
}

for (const { file, name } of CONTRACTS) {
  const compiled = output.contracts[file][name];
  const artifact = {
    contractName: name,
    compiler: `solc ${solc.version()}`,
    abi: compiled.abi,
    bytecode: `0x${compiled.evm.bytecode.object}`,
    deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`,
  };
  const outPath = join(contractsDir, `${name}.json`);
  writeFileSync(outPath, `${JSON.stringify(artifact, null, 2)}\n`);
  console.log(`wrote ${outPath} (${(artifact.deployedBytecode.length - 2) / 2} bytes runtime)`);
}
