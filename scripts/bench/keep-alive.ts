import { Agent, request } from 'node:http'

/** A JSON answer: its status, and its body parsed (the raw text when it is not JSON). */
export interface JsonAnswer { status: number, body: unknown }

/**
 * POSTs JSON over a keep-alive agent, as a client that holds its connection does: the bench's
 * own cost per request stays small, so the figures measure the mesh, not the client. A request
 * that meets a connection the server just closed (idle keep-alive timeout) is sent once more.
 *
 * @example
 * ```ts
 * const agent = new Agent({ keepAlive: true, maxSockets: 16 })
 * const { status } = await postJson(agent, node.api!, '/v1/exec', node.token!, { action: 'echo', resource: 'r' })
 * ```
 */
export async function postJson (
  agent: Agent, api: string, path: string, token: string, body: unknown
): Promise<JsonAnswer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  try {
    return await once(agent, new URL(api), path, token, text)
  } catch (err) {
    if ((err as { code?: string }).code !== 'ECONNRESET') throw err
    return await once(agent, new URL(api), path, token, text)
  }
}

async function once (agent: Agent, api: URL, path: string, token: string, body: string): Promise<JsonAnswer> {
  return await new Promise<JsonAnswer>((resolve, reject) => {
    const req = request({
      agent, host: api.hostname, port: api.port, path, method: 'POST',
      headers: {
        'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body)
      }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        let parsed: unknown = raw
        try { parsed = JSON.parse(raw) } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, body: parsed })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    // Headers and body leave as they are written, not held back by Nagle's algorithm.
    req.on('socket', (socket) => { socket.setNoDelay(true) })
    req.end(body)
  })
}
