/**
 * x402-autopay for browsers: everything from the neutral entry. The browser ledger
 * (localStorage + Web Locks) is added here by the budget release.
 * @packageDocumentation
 */
export * from '../index.js';
