import { createServer, type Server } from 'node:http'

/**
 * Limits that stop a slow or idle client from holding a connection of the API open
 * (slowloris): the headers must arrive within `headersMs`, the whole request (a body is at
 * most 1 MiB) within `requestMs`, and an idle keep-alive connection closes after
 * `keepAliveMs`. Long responses such as `/v1/events` are not limited: these bound only
 * what the client sends.
 */
export interface HttpTimeouts { headersMs: number, requestMs: number, keepAliveMs: number }

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000 }

/** How often Node checks connections against the header and request limits (its default is 30 s). */
const CHECK_INTERVAL_MS = 1_000

/**
 * An HTTP server factory for Fastify that applies the limits.
 *
 * @example
 * ```ts
 * const app = Fastify({ serverFactory: limitedServerFactory(DEFAULT_HTTP_TIMEOUTS) })
 * ```
 */
export function limitedServerFactory (t: HttpTimeouts): (handler: Parameters<typeof createServer>[1]) => Server {
  return (handler) => {
    const server = createServer({
      headersTimeout: t.headersMs,
      requestTimeout: t.requestMs,
      keepAliveTimeout: t.keepAliveMs,
      connectionsCheckingInterval: CHECK_INTERVAL_MS
    }, handler)
    server.keepAliveTimeout = t.keepAliveMs
    return server
  }
}
