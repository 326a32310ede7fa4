/**
 * `x402-autopay/testing`: an x402 server in a `fetch` function, to test code that pays without a
 * chain, a server or a network (works in Node and in browsers).
 */
export { mockX402Server, MOCK_PAY_TO, type MockX402Server, type MockX402ServerOptions, type MockRoute, type MockPayment, type MockOutcome } from './mockX402Server.js';
