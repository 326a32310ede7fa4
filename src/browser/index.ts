/**
 * x402-autopay for browsers: everything from the neutral entry, plus `browserStore()`, a spend
 * ledger in IndexedDB shared by the tabs and workers of one origin through Web Locks (advisory:
 * any script of the origin can edit it; real caps belong on chain or on a server).
 * @packageDocumentation
 */
export * from '../index.js';
export { browserStore, type BrowserStoreOptions } from './browserStore.js';
