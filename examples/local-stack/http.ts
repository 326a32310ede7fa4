import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Express, NextFunction, Request, Response } from 'express';

/** An HTTP server listening on the loopback interface. */
export interface LoopbackServer {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** The OS-assigned port. */
  port: number;
  /** Closes the server and every open (keep-alive) connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts an express app on 127.0.0.1 with an OS-assigned free port (never a fixed one, so
 * several stacks can run in parallel).
 *
 * @param app - The express application.
 * @returns Its URL and a `close()` that also drops keep-alive connections.
 */
export function listenOnLoopback(app: Express): Promise<LoopbackServer> {
  return new Promise((resolve, reject) => {
    const server: Server = app.listen(0, '127.0.0.1');
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      let closing: Promise<void> | undefined;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        close() {
          closing ??= new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          });
          return closing;
        },
      });
    });
  });
}

/**
 * Turns an async express handler's rejection into a 500 JSON answer instead of an unhandled
 * rejection (express 4 does not await handlers).
 *
 * @param handler - The async handler.
 * @returns An express handler.
 */
export function asyncHandler(
  handler: (req: Request, res: Response) => Promise<void>,
): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    handler(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        next(error);
        return;
      }
      res.status(500).json({ error: error instanceof Error ? error.message : String(error) });
    });
  };
}
