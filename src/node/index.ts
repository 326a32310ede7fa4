/**
 * x402-autopay for Node.js: everything from the neutral entry, plus `fileStore(path)`, a spend
 * ledger in a checksummed state file and a hash-chained journal, shared safely by the processes
 * of one machine (fails closed on any corruption); and `guardAddresses(fetch)`, a fetch that
 * follows redirects only to public addresses (SSRF).
 * @packageDocumentation
 */
export * from '../index.js';
export { fileStore, type FileStore, type FileStoreOptions } from './fileStore.js';
export { FileLedgerError, type FileLedgerProblem } from './FileLedgerError.js';
export { guardAddresses, type GuardAddressesOptions } from './guardAddresses.js';
export { RequestBlockedError, type RequestBlockedReason } from './RequestBlockedError.js';
export type { AddressRange } from './addressRange.js';
export { publicAddressLookup, type PublicAddressLookupOptions } from './publicAddressLookup.js';
