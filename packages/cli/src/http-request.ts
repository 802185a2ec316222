import type { IncomingMessage, RequestOptions } from 'node:http'

/** A whole HTTP response: its status and its body bytes. */
export interface HttpResponse {
  status: number
  body: Buffer
}

export interface HttpRequest {
  method: string
  headers?: Record<string, string>
  body?: string
  timeoutMs: number
}

/**
 * One HTTP request with `node:http` (`node:https` for https URLs). A CLI command makes one or two
 * requests, and the global `fetch` costs more to load than Node takes to start (its undici bundle
 * is compiled on first use), so the client does not use it.
 *
 * @example
 * ```ts
 * const res = await httpRequest('http://127.0.0.1:7700/v1/status', { method: 'GET', timeoutMs: 60_000 })
 * JSON.parse(res.body.toString('utf8'))
 * ```
 */
export async function httpRequest (url: string, req: HttpRequest): Promise<HttpResponse> {
  const target = new URL(url)
  const { request } = target.protocol === 'https:' ? await import('node:https') : await import('node:http')
  const headers = {
    ...req.headers, ...(req.body !== undefined ? { 'content-length': String(Buffer.byteLength(req.body)) } : {})
  }
  const options: RequestOptions = { method: req.method, headers, signal: AbortSignal.timeout(req.timeoutMs) }
  return await new Promise<HttpResponse>((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => { chunks.push(chunk) })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }) })
      res.on('error', reject)
    }
    const r = request(target, options, onResponse)
    r.on('error', reject)
    r.end(req.body)
  })
}
