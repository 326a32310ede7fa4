import { describe, expect, it } from 'vitest';
import { evmChainId, v1NetworkToCaip2 } from '../../src/protocol/networks.js';
import { assetKey, KNOWN_ASSETS } from '../../src/protocol/assets.js';

describe('v1NetworkToCaip2 (PROTOCOL §2.1)', () => {
  const table: [string, string][] = [
    ['ethereum', 'eip155:1'],
    ['sepolia', 'eip155:11155111'],
    ['base', 'eip155:8453'],
    ['base-sepolia', 'eip155:84532'],
    ['avalanche', 'eip155:43114'],
    ['avalanche-fuji', 'eip155:43113'],
    ['polygon', 'eip155:137'],
    ['polygon-amoy', 'eip155:80002'],
    ['sei', 'eip155:1329'],
    ['sei-testnet', 'eip155:1328'],
    ['skale-base-sepolia', 'eip155:324705682'],
    ['monad', 'eip155:143'],
    ['stable', 'eip155:988'],
    ['solana', 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp'],
  ];
  for (const [name, caip2] of table) {
    it(`${name} → ${caip2}`, () => expect(v1NetworkToCaip2(name)).toBe(caip2));
  }

  it('unknown, re-cased or inherited names are undefined', () => {
    for (const name of ['Base', 'BASE', 'base ', 'arbitrum', '', 'toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      expect(v1NetworkToCaip2(name)).toBeUndefined();
    }
  });
});

describe('evmChainId', () => {
  it('reads canonical eip155 ids', () => {
    expect(evmChainId('eip155:1')).toBe(1);
    expect(evmChainId('eip155:8453')).toBe(8453);
    expect(evmChainId('eip155:84532')).toBe(84532);
    expect(evmChainId('eip155:324705682')).toBe(324705682);
    expect(evmChainId('eip155:9007199254740991')).toBe(9007199254740991);
  });

  it('refuses everything else', () => {
    for (const network of [
      'eip155:8453abc',
      'eip155:08453',
      'EIP155:8453',
      'eip155:8453 ',
      ' eip155:8453',
      'eip155:0',
      'eip155:',
      'eip155:-1',
      'eip155:0x2105',
      'eip155:8453.0',
      'eip155:1e3',
      'eip155:9007199254740993',
      'eip155:99999999999999999',
      'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp',
      'base',
      'eip155:8453\n',
    ]) {
      expect(evmChainId(network), network).toBeUndefined();
    }
  });
});

describe('known assets (PROTOCOL §2.2)', () => {
  it('Base and Base Sepolia USDC carry their real EIP-712 names', () => {
    expect(KNOWN_ASSETS.get(assetKey('eip155:8453', '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913'))).toMatchObject({
      name: 'USD Coin',
      version: '2',
      decimals: 6,
      usdPegged: true,
      transfer: 'eip3009',
    });
    expect(KNOWN_ASSETS.get(assetKey('eip155:84532', '0x036cbd53842c5426634e7929541ec2318f3dcf7e'))).toMatchObject({
      name: 'USDC',
      version: '2',
      decimals: 6,
    });
  });

  it('keys are case-insensitive in the address and exact in the network', () => {
    expect(assetKey('eip155:8453', '0xABCdef')).toBe('eip155:8453|0xabcdef');
    expect(KNOWN_ASSETS.get(assetKey('eip155:84532', '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913'))).toBeUndefined();
  });

  it('Permit2 tokens are marked as such', () => {
    expect(KNOWN_ASSETS.get(assetKey('eip155:4326', '0xFAfDdbb3FC7688494971a79cc65DCa3EF82079E7'))).toMatchObject({ transfer: 'permit2', decimals: 18 });
  });
});
