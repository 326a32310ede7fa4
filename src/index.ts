/**
 * x402-autopay: pay for HTTP resources over x402 (v1 and v2), safely.
 * The neutral entry: no Node built-ins, works in Node 20+ and current browsers.
 * @packageDocumentation
 */
export { wrapFetch, type PaidFetch, type BudgetView } from './fetch.js';
export { memoryStore, type MemoryStoreOptions } from './budget/stores/memory.js';
export type { SpendStore, SpendRecord, SpendStatus, SpendAuthorization, ReserveRequest, ReserveResult, CounterCheck, CounterWindow } from './budget/store.js';
export type { BudgetOptions, ScopeLimits, AllowDeny } from './budget/budgetOptions.js';
export { BUDGET_DEFAULTS } from './budget/budgetOptions.js';
export type { RemainingLimit } from './budget/budget.js';
export type { PaymentEvent, DeniedEvent, ErrorEvent, ResendEvent, SignInEvent } from './events.js';
export { getPayment, type Payment } from './receipt.js';
export { signInWithX, type SignInStep } from './signInWithX.js';
export type { DeliveryProblem } from './internal/deliveryProblem.js';
export {
  checkAuthorization,
  type AuthorizationCheck,
  type AuthorizationBlockTag,
  type AuthorizationRefJson,
  type ChainReader,
  type CheckAuthorizationOptions,
} from './checkAuthorization.js';
export type { AuthorizationRef } from './schemes/exactEvm.js';
export { chainChecker, type AuthorizationChecker } from './chainChecker.js';
export type { ReconciledPayment, ReconcileOptions } from './budget/reconcilePayments.js';
export type { WrapFetchOptions, DeclaredAsset, EventListeners } from './options.js';
export type { Quote } from './select.js';
export type { PaymentOption, Challenge } from './protocol/challenge.js';
export type { AssetInfo } from './protocol/assets.js';
export type { WalletInput, TypedDataSigner, Eip1193Provider, WalletClientLike } from './wallets/types.js';
export { X402Error, isX402Error, type MoneyMoved } from './errors/X402Error.js';
export { InvalidChallengeError, type ChallengeIssue, type InvalidChallengeReason } from './errors/InvalidChallengeError.js';
export { UnsupportedVersionError } from './errors/UnsupportedVersionError.js';
export { NoAcceptableOptionError, type OptionRefusal } from './errors/NoAcceptableOptionError.js';
export { BudgetExceededError } from './errors/BudgetExceededError.js';
export { WalletError } from './errors/WalletError.js';
export { PaymentRejectedError } from './errors/PaymentRejectedError.js';
export { SettlementUnknownError, type SettlementUnknownReason } from './errors/SettlementUnknownError.js';
export { RequestBodyTooLargeError } from './errors/RequestBodyTooLargeError.js';
export { ApprovalDeniedError } from './errors/ApprovalDeniedError.js';
export { BudgetUnavailableError } from './errors/BudgetUnavailableError.js';
export { CircuitOpenError } from './errors/CircuitOpenError.js';
export { DuplicateRequestError, type DuplicateRequestState } from './errors/DuplicateRequestError.js';
export { PayeeChangedError } from './errors/PayeeChangedError.js';
export { PriceChangedError } from './errors/PriceChangedError.js';
export { InsecureTransportError } from './errors/InsecureTransportError.js';
export { ReconcileUnavailableError } from './errors/ReconcileUnavailableError.js';
