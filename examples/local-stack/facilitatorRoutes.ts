import type { Express } from 'express';
import { asyncHandler } from './http.js';
import type { FacilitatorLogEntry } from './facilitatorV2.js';

/** What `/verify` answers, as far as the log needs it. */
interface VerifyOutcome {
  readonly isValid: boolean;
  readonly invalidReason?: string | undefined;
  readonly payer?: string | undefined;
}

/** What `/settle` answers, as far as the log needs it. */
interface SettleOutcome {
  readonly success: boolean;
  readonly errorReason?: string | undefined;
  readonly transaction?: string | undefined;
  readonly payer?: string | undefined;
}

/**
 * Mounts a facilitator's `POST /verify` and `POST /settle` on `app`, the part both local
 * facilitators (v1 `x402`, v2 `@x402/core`) share: parse the body (400 when it is not
 * `{ paymentPayload, paymentRequirements }`), mine a fresh block when the chain is idle, run the
 * official verify or settle (settles one at a time: the facilitator account's nonces must not
 * race), log the outcome and answer it as JSON.
 *
 * @param app - The express app of the facilitator.
 * @param args - `readBody` parses a request body or says why it is not acceptable; `verify` and
 *   `settle` call the official functions, each with its own answer for a throw.
 * @example
 * ```ts
 * import { mountFacilitatorRoutes } from './facilitatorRoutes.js';
 * mountFacilitatorRoutes(app, { readBody, verify: (p) => facilitator.verify(p.payload, p.requirements), settle, log, freshen, serial });
 * ```
 */
export function mountFacilitatorRoutes<P extends { payload: unknown; requirements: unknown }>(
  app: Express,
  args: {
    readBody: (body: unknown) => P | { error: string };
    verify: (parsed: P) => Promise<VerifyOutcome>;
    settle: (parsed: P) => Promise<SettleOutcome>;
    log: FacilitatorLogEntry[];
    freshen: () => Promise<void>;
    serial: <T>(task: () => Promise<T>) => Promise<T>;
  },
): void {
  app.post(
    '/verify',
    asyncHandler(async (req, res) => {
      const parsed = args.readBody(req.body);
      if ('error' in parsed) {
        res.status(400).json({ error: parsed.error });
        return;
      }
      await args.freshen();
      const result = await args.verify(parsed);
      args.log.push({
        endpoint: 'verify',
        ok: result.isValid,
        ...(result.invalidReason ? { reason: result.invalidReason } : {}),
        ...(result.payer ? { payer: result.payer } : {}),
      });
      res.json(result);
    }),
  );

  app.post(
    '/settle',
    asyncHandler(async (req, res) => {
      const parsed = args.readBody(req.body);
      if ('error' in parsed) {
        res.status(400).json({ error: parsed.error });
        return;
      }
      await args.freshen();
      const result = await args.serial(() => args.settle(parsed));
      args.log.push({
        endpoint: 'settle',
        ok: result.success,
        ...(result.errorReason ? { reason: result.errorReason } : {}),
        ...(result.transaction ? { transaction: result.transaction } : {}),
        ...(result.payer ? { payer: result.payer } : {}),
      });
      res.json(result);
    }),
  );
}
