import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { CONSOLE_DIST_DIR } from '@govmesh/console'
import { ConsoleNotBuiltError } from './errors.js'

/** Paths of the console's app views; each answers the same page, which routes on the client. */
export const CONSOLE_VIEWS = ['/', '/governance', '/lineage', '/demo'] as const

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8'
}
// The app talks only to the node that served it; styles may be set inline by the graph library.
const APP_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

interface ConsoleFiles {
  index: Buffer
  proofViewer: Buffer
  proofCsp: string
  assets: Map<string, Buffer>
}

export { ConsoleNotBuiltError }

function loadFiles (dir: string): ConsoleFiles {
  if (!existsSync(join(dir, 'manifest.json'))) {
    throw new ConsoleNotBuiltError(`the web console is not built (${dir}manifest.json is missing; run npm run build)`)
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { proofViewer: { csp: string } }
  const assets = new Map<string, Buffer>()
  for (const name of readdirSync(join(dir, 'assets'))) assets.set(name, readFileSync(join(dir, 'assets', name)))
  return {
    index: readFileSync(join(dir, 'index.html')),
    proofViewer: readFileSync(join(dir, 'proof-viewer.html')),
    proofCsp: manifest.proofViewer.csp,
    assets
  }
}

function extension (name: string): string {
  const dot = name.lastIndexOf('.')
  return dot < 0 ? '' : name.slice(dot)
}

function page (reply: FastifyReply, body: Buffer, csp: string): FastifyReply {
  // Pages are revalidated on every load so a rebuilt node serves its new (hashed) assets at once.
  return reply
    .type(TYPES['.html']!)
    .header('cache-control', 'no-cache')
    .header('content-security-policy', csp)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .send(body)
}

/**
 * Serves the web console (built by `@govmesh/console`) at `/`, `/governance`, `/lineage`,
 * `/demo` and `/proof`, with its content-hashed assets under `/assets/` (cached for a year,
 * immutable). Reading needs no token; the pages ask for it before any action.
 *
 * @example
 * ```ts
 * registerConsoleStatic(app) // before app.listen()
 * ```
 */
export function registerConsoleStatic (app: FastifyInstance, dir: string = CONSOLE_DIST_DIR): void {
  let files: ConsoleFiles
  try {
    files = loadFiles(dir)
  } catch (err) {
    // A node without a built console still serves its API; the pages say what is missing.
    const message = (err as Error).message
    for (const path of [...CONSOLE_VIEWS, '/proof']) {
      app.get(path, async (_req, reply) => reply.code(503).send({ error: 'console.not-built', message }))
    }
    return
  }
  for (const path of CONSOLE_VIEWS) app.get(path, async (_req, reply) => page(reply, files.index, APP_CSP))
  app.get('/proof', async (_req, reply) => page(reply, files.proofViewer, files.proofCsp))
  app.get<{ Params: { name: string } }>('/assets/:name', async (req, reply) => {
    const body = files.assets.get(req.params.name)
    const type = TYPES[extension(req.params.name)]
    if (body === undefined || type === undefined) {
      return reply.code(404).send({ error: 'not-found', message: `no asset ${req.params.name}` })
    }
    return reply.type(type)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .send(body)
  })
}
