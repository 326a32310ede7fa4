/**
 * A page that pays for an API with the user's wallet: an injected EIP-1193 provider
 * (`window.ethereum`: MetaMask, Rabby, Coinbase Wallet…) through a viem `WalletClient`, with
 * its budget in `browserStore()` (kept across reloads, shared by the origin's tabs).
 * Served by Vite from this folder; see README.md for running it against the local demo stack.
 */
import { createWalletClient, custom } from 'viem';
import { browserStore, getPayment, isX402Error, wrapFetch, type Eip1193Provider, type PaidFetch } from 'x402-autopay/browser';

declare global {
  interface Window {
    ethereum?: Eip1193Provider;
  }
}

const form = document.querySelector<HTMLFormElement>('#pay')!;
const input = document.querySelector<HTMLInputElement>('#url')!;
const button = document.querySelector<HTMLButtonElement>('#go')!;
const out = document.querySelector<HTMLPreElement>('#out')!;

// `?api=<url>` fills the field (handy with the URL the local stack prints).
input.value = new URLSearchParams(location.search).get('api') ?? '';

let paidFetch: PaidFetch | undefined;

/** Connects the wallet once (one prompt) and makes the paying fetch. */
async function connect(): Promise<PaidFetch> {
  if (paidFetch) return paidFetch;
  const provider = window.ethereum;
  if (!provider) throw new Error('No wallet found: install a browser wallet extension (window.ethereum).');
  const [address] = await createWalletClient({ transport: custom(provider) }).requestAddresses();
  if (!address) throw new Error('The wallet shared no account.');
  const wallet = createWalletClient({ account: address, transport: custom(provider) });
  // `wrapFetch(fetch, provider, …)` works too: the raw provider is a wallet shape of its own.
  paidFetch = wrapFetch(fetch, wallet, {
    budget: { perRequest: '0.05', daily: '0.50' },
    store: browserStore({ prefix: 'x402-example:' }),
  });
  return paidFetch;
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  button.disabled = true;
  out.textContent = 'Paying…';
  void (async () => {
    try {
      const pay = await connect();
      const response = await pay(input.value);
      const payment = getPayment(response);
      const body = await response.text();
      const daily = (await pay.budget.remaining()).find((limit) => limit.limit === 'daily');
      out.textContent = [
        `HTTP ${response.status}`,
        payment
          ? `paid ${payment.amount} atomic units to ${payment.payTo} on ${payment.network}: ${payment.status}` +
            (payment.transaction ? `, transaction ${payment.transaction}` : ' (receipt not readable: is PAYMENT-RESPONSE exposed by CORS?)')
          : 'no payment needed',
        daily ? `daily budget used: ${daily.used} of ${daily.max}` : '',
        '',
        body,
      ].join('\n');
    } catch (error) {
      // SDK errors carry a code and say whether money may have moved; see docs/errors.md.
      out.textContent = isX402Error(error) ? `${error.code} (money moved: ${error.moneyMoved})\n\n${error.message}` : String(error);
    } finally {
      button.disabled = false;
    }
  })();
});
