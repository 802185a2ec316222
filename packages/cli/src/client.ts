import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { checkDataDir, notRunning, resolveDataDir, runningNode } from './data-dir.js'
import { httpRequest, type HttpResponse } from './http-request.js'
import { CliError } from './output.js'

export interface ClientOptions {
  api?: string
  token?: string
  dataDir?: string
  json?: boolean
  output?: string
}

/** True when `-o wide` asks for every column and cell in full. */
export function wideOutput (opts: { output?: string }): boolean {
  return opts.output === 'wide'
}

/** Adds --api, --token, --data-dir and --json to a client command. */
export function clientOptions (cmd: Command): Command {
  return cmd
    .option('--api <url>', 'node API URL (default: $GOVMESH_API, else http://127.0.0.1:7700)')
    .option('--token <token>', 'API bearer token (default: $GOVMESH_TOKEN, else DIR/api-token of --data-dir)')
    .option('--data-dir <dir>', 'data dir of the node whose api-token (and api-url) to use (default: $GOVMESH_HOME)')
    .option('--json', 'print JSON for scripts', false)
    .option('-o, --output <format>', 'table format: wide shows every column in full (default: fit the terminal)')
}

/** HTTP client of a node's API with the CLI's defaults and error reporting. */
export class ApiClient {
  readonly url: string
  private readonly token: string | undefined

  /** The data dir that named the node (not set when --api or $GOVMESH_API did). */
  private readonly dataDir: string | undefined

  constructor (opts: ClientOptions) {
    const dataDir = resolveDataDir(opts.dataDir)
    let url = opts.api ?? process.env.GOVMESH_API
    if (url === undefined && dataDir !== undefined) {
      // A data dir names one node: never fall back to the default URL of another.
      checkDataDir(dataDir)
      const node = runningNode(dataDir)
      if (node === undefined) throw notRunning(dataDir)
      url = node.api
      this.dataDir = dataDir
    }
    this.url = (url ?? 'http://127.0.0.1:7700').replace(/\/+$/, '')
    this.token = opts.token ?? process.env.GOVMESH_TOKEN ?? (
      dataDir !== undefined ? readOptional(join(dataDir, 'api-token')) : undefined
    )
  }

  /** An unreachable API: "not running" when a data dir named the node and its process is gone. */
  private unreachable (err: Error): CliError {
    if (this.dataDir !== undefined && runningNode(this.dataDir) === undefined) return notRunning(this.dataDir)
    const cause = err.cause instanceof Error ? err.cause.message : err.message
    return new CliError(`cannot reach the node API at ${this.url}: ${cause}`, 1, 'cli.unreachable')
  }

  async get<T> (path: string): Promise<T> {
    return this.request<T>('GET', path)
  }

  async post<T> (
    path: string, body: unknown, opts: { okStatuses?: number[] } = {}
  ): Promise<{ status: number, body: T }> {
    if (this.token === undefined) throw new CliError(
      'this command needs the API token: pass --token, set GOVMESH_TOKEN, or pass --data-dir of the node'
    )
    return this.requestFull<T>('POST', path, body, opts.okStatuses)
  }

  /** GET of a binary body (e.g. a CAR). */
  async getBytes (path: string): Promise<Uint8Array> {
    let res: HttpResponse
    try {
      res = await httpRequest(this.url + path, { method: 'GET', timeoutMs: 120_000 })
    } catch (err) {
      throw this.unreachable(err as Error)
    }
    if (res.status < 200 || res.status > 299) {
      const text = res.body.toString('utf8')
      let msg = text
      try { msg = (JSON.parse(text) as { message?: string }).message ?? text } catch { /* not JSON */ }
      throw new CliError(`GET ${path}: HTTP ${res.status}: ${msg}`)
    }
    return new Uint8Array(res.body)
  }

  private async request<T> (method: string, path: string): Promise<T> {
    return (await this.requestFull<T>(method, path)).body
  }

  private async requestFull<T> (
    method: string, path: string, body?: unknown, okStatuses: number[] = []
  ): Promise<{ status: number, body: T }> {
    let res: HttpResponse
    try {
      res = await httpRequest(this.url + path, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(this.token !== undefined ? { authorization: `Bearer ${this.token}` } : {})
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        timeoutMs: 60_000
      })
    } catch (err) {
      throw this.unreachable(err as Error)
    }
    const text = res.body.toString('utf8')
    let parsed: unknown
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined
    } catch {
      parsed = text
    }
    const ok = res.status >= 200 && res.status <= 299
    if (!ok && !okStatuses.includes(res.status)) {
      const msg = (parsed as { message?: string } | undefined)?.message ?? text
      throw new CliError(`${method} ${path}: HTTP ${res.status}: ${msg}`, 1, `http.${res.status}`)
    }
    return { status: res.status, body: parsed as T }
  }
}

function readOptional (path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return undefined
  }
}
