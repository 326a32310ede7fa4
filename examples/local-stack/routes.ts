import express, { type Express } from 'express';

/**
 * Prices of the paid routes, in atomic units (6 decimals). Every server of the stack charges
 * these; all are in the canonical-address USDC except `twoOptionsCustom`.
 */
export const PRICES = {
  /** `GET /weather`: $0.01. */
  weather: 10_000n,
  /** `POST /echo`: $0.01. */
  echo: 10_000n,
  /** `GET /two-options`, option 1: 0.02 USDC at the canonical address. */
  twoOptionsUsdc: 20_000n,
  /** `GET /two-options`, option 2: 0.005 of the custom-address token (the cheaper one). */
  twoOptionsCustom: 5_000n,
  /** `GET /premium`: $0.50 (for "refused over the cap" demos). */
  premium: 500_000n,
} as const;

/** Human descriptions of the paid routes (sent in the 402 challenge). */
export const DESCRIPTIONS = {
  weather: 'Local weather report',
  echo: 'Echoes the JSON request body',
  twoOptions: 'Payable in USDC (0.02) or in the custom token (0.005)',
  premium: 'Premium report (expensive)',
} as const;

/** One request a paid API server answered (recorded when the response finished). */
export interface RequestLogEntry {
  /** HTTP method. */
  method: string;
  /** Request path, e.g. `/weather`. */
  path: string;
  /** Which payment header the request carried, if any. */
  paymentHeader: 'PAYMENT-SIGNATURE' | 'X-PAYMENT' | undefined;
  /** Final status sent to the client (after settlement). */
  status: number;
}

/** Headers a browser client must be allowed to read or send for x402. */
const EXPOSED_HEADERS = 'PAYMENT-REQUIRED, PAYMENT-RESPONSE, X-PAYMENT-RESPONSE';
const ALLOWED_HEADERS = 'Content-Type, Accept, PAYMENT-SIGNATURE, X-PAYMENT, Access-Control-Expose-Headers';

/**
 * Installs the middleware that must run before the payment middleware: JSON body parsing
 * (so `POST /echo` sees its body on the paid retry), the request log and, when asked, CORS.
 *
 * Without `cors`, servers behave like the official ones: no `Access-Control-*` headers at
 * all, so a browser cannot read `PAYMENT-REQUIRED` / `PAYMENT-RESPONSE` cross-origin.
 *
 * @param app - The express app.
 * @param log - Array the request log is appended to.
 * @param cors - Answer preflights and expose the x402 headers to any origin.
 */
export function installPrePaymentMiddleware(app: Express, log: RequestLogEntry[], cors: boolean): void {
  app.use(express.json({ limit: '1mb' }));
  app.use((req, res, next) => {
    const paymentHeader = req.header('PAYMENT-SIGNATURE')
      ? 'PAYMENT-SIGNATURE'
      : req.header('X-PAYMENT')
        ? 'X-PAYMENT'
        : undefined;
    res.on('finish', () => {
      log.push({ method: req.method, path: req.path, paymentHeader, status: res.statusCode });
    });
    next();
  });
  if (cors) {
    app.use((req, res, next) => {
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
        res.setHeader('Access-Control-Max-Age', '600');
        res.status(204).end();
        return;
      }
      next();
    });
  }
}

/**
 * Body of `GET /two-options` (shared by the v2 route and the v1 multi-option handler).
 *
 * @param version - Protocol version of the server.
 * @returns The JSON body.
 */
export function twoOptionsBody(version: 1 | 2): Record<string, unknown> {
  return { report: { city: 'Localhost', weather: 'cloudy' }, paidWith: 'one of two options', x402Version: version };
}

/**
 * Installs the resource handlers (run after the payment middleware accepted the request).
 *
 * - `GET /weather` → `{ report: {...} }`
 * - `POST /echo` → `{ received: <request JSON body> }`
 * - `GET /two-options` → `{ report: {...}, paidWith: "one of two options" }`
 * - `GET /free` → `{ free: true }` (never paid); `?delayMs=N` (0 to 1,000) answers N ms later
 * - `GET /premium` → `{ premium: {...} }`
 *
 * @param app - The express app.
 * @param version - Protocol version of the server, echoed in the bodies.
 */
export function installResourceHandlers(app: Express, version: 1 | 2): void {
  app.get('/weather', (_req, res) => {
    res.json({ report: { city: 'Localhost', weather: 'sunny', temperatureC: 21 }, x402Version: version });
  });
  app.post('/echo', (req, res) => {
    res.json({ received: req.body as unknown });
  });
  app.get('/two-options', (_req, res) => {
    res.json(twoOptionsBody(version));
  });
  app.get('/free', (req, res) => {
    const delayMs = Math.min(1_000, Math.max(0, Number.parseInt(String(req.query['delayMs'] ?? '0'), 10) || 0));
    const answer = () => res.json({ free: true, x402Version: version });
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
  app.get('/premium', (_req, res) => {
    res.json({ premium: { forecastDays: 14, confidence: 0.99 }, x402Version: version });
  });
}
