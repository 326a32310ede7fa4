/**
 * x402-autopay for Node.js: everything from the neutral entry. Node-only stores (a file ledger)
 * are added here by the budget release.
 * @packageDocumentation
 */
export * from '../index.js';
