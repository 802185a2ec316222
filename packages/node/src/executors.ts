import { spawn } from 'node:child_process'
import { ExecutorError } from './errors.js'

export { ExecutorError }

/** How an action is executed, from the node's config file. */
export type ExecutorConfig =
  | { type: 'echo' }
  | { type: 'sleep', maxMs?: number }
  | { type: 'http', url: string, timeoutMs?: number, maxOutputBytes?: number }
  | { type: 'command', command: string[], timeoutMs?: number, maxOutputBytes?: number }

export interface ExecutorInput {
  action: string
  resource: string
  payload: unknown
  principal: string
  request: string
}

export interface ExecutorOutput {
  ok: boolean
  output: unknown
}


const DEFAULT_TIMEOUT_MS = 10_000
const DEFAULT_MAX_OUTPUT = 64 * 1024

/** Executors every node has unless its config says otherwise. */
export const DEFAULT_EXECUTORS: Record<string, ExecutorConfig> = {
  echo: { type: 'echo' },
  sleep: { type: 'sleep', maxMs: 30_000 }
}

/** Checks one executor entry of a config file, naming the field on error. */
export function parseExecutorConfig (action: string, v: unknown): ExecutorConfig {
  const where = `executors.${action}`
  if (v === null || typeof v !== 'object') throw new ExecutorError(`${where}: expected an object`)
  const c = v as Record<string, unknown>
  const posInt = (x: unknown, f: string): number | undefined => {
    if (x === undefined) return undefined
    if (
      typeof x !== 'number' || !Number.isInteger(x) || x < 1
    ) throw new ExecutorError(`${where}.${f}: expected a positive integer`)
    return x
  }
  switch (c.type) {
    case 'echo': return { type: 'echo' }
    case 'sleep': return { type: 'sleep', maxMs: posInt(c.maxMs, 'maxMs') }
    case 'http':
      if (
        typeof c.url !== 'string' || !/^https?:\/\//.test(c.url)
      ) throw new ExecutorError(`${where}.url: expected an http(s) URL`)
      return {
        type: 'http', url: c.url, timeoutMs: posInt(c.timeoutMs, 'timeoutMs'),
        maxOutputBytes: posInt(c.maxOutputBytes, 'maxOutputBytes')
      }
    case 'command':
      if (!Array.isArray(c.command) || c.command.length === 0 || !c.command.every(x => typeof x === 'string')) {
        throw new ExecutorError(`${where}.command: expected an array [executable, ...args]`)
      }
      return {
        type: 'command', command: c.command, timeoutMs: posInt(c.timeoutMs, 'timeoutMs'),
        maxOutputBytes: posInt(c.maxOutputBytes, 'maxOutputBytes')
      }
    default:
      throw new ExecutorError(`${where}.type: expected echo, sleep, http or command`)
  }
}

/**
 * Runs one execution with the configured executor. Never throws for the task's own failure: that is `ok: false`.
 * `signal` stops it early (the execution's deadline): the sleep ends, the HTTP call is aborted, the command killed.
 */
export async function runExecutor (
  config: ExecutorConfig, input: ExecutorInput, signal?: AbortSignal
): Promise<ExecutorOutput> {
  switch (config.type) {
    case 'echo':
      return { ok: true, output: { action: input.action, resource: input.resource, payload: input.payload ?? null } }
    case 'sleep': {
      const ms = Math.min(Number((input.payload as { ms?: unknown } | null)?.ms ?? 100) || 0, config.maxMs ?? 30_000)
      const done = await new Promise<boolean>(resolve => {
        const timer = setTimeout(() => { resolve(true) }, Math.max(0, ms))
        const stop = (): void => { clearTimeout(timer); resolve(false) }
        if (signal?.aborted === true) stop()
        else signal?.addEventListener('abort', stop, { once: true })
      })
      return done ? { ok: true, output: { slept: ms } } : { ok: false, output: { error: 'stopped' } }
    }
    case 'http': return await runHttp(config, input, signal)
    case 'command': return await runCommand(config, input, signal)
  }
}

function withSignal (timeout: AbortSignal, signal: AbortSignal | undefined): AbortSignal {
  return signal === undefined ? timeout : AbortSignal.any([timeout, signal])
}

async function runHttp (
  config: Extract<ExecutorConfig, { type: 'http' }>, input: ExecutorInput, signal?: AbortSignal
): Promise<ExecutorOutput> {
  const max = config.maxOutputBytes ?? DEFAULT_MAX_OUTPUT
  try {
    const res = await fetch(config.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input),
      signal: withSignal(AbortSignal.timeout(config.timeoutMs ?? DEFAULT_TIMEOUT_MS), signal)
    })
    const text = await res.text()
    if (text.length > max) return { ok: false, output: { error: `response over ${max} bytes` } }
    let body: unknown = text
    try { body = JSON.parse(text) } catch { /* plain text */ }
    return { ok: res.ok, output: { status: res.status, body } }
  } catch (err) {
    return { ok: false, output: { error: (err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message } }
  }
}

async function runCommand (
  config: Extract<ExecutorConfig, { type: 'command' }>, input: ExecutorInput, signal?: AbortSignal
): Promise<ExecutorOutput> {
  const max = config.maxOutputBytes ?? DEFAULT_MAX_OUTPUT
  const [file, ...args] = config.command
  return await new Promise((resolve) => {
    // No shell: the payload reaches the program only on stdin, never as arguments.
    const child = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'], shell: false })
    let out = Buffer.alloc(0)
    let err = ''
    let overflow = false
    const timer = setTimeout(() => { child.kill('SIGKILL') }, config.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    signal?.addEventListener('abort', () => { child.kill('SIGKILL') }, { once: true })
    child.stdout.on('data', (chunk: Buffer) => {
      if (out.length + chunk.length > max) { overflow = true; child.kill('SIGKILL'); return }
      out = Buffer.concat([out, chunk])
    })
    child.stderr.on('data', (chunk: Buffer) => { if (err.length < 4096) err += chunk.toString() })
    child.on('error', (e) => { clearTimeout(timer); resolve({ ok: false, output: { error: e.message } }) })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (overflow) { resolve({ ok: false, output: { error: `output over ${max} bytes` } }); return }
      if (signal !== null) {
        resolve({ ok: false, output: { error: signal === 'SIGKILL' ? 'timeout' : `killed by ${signal}` } }); return
      }
      const text = out.toString('utf8')
      let parsed: unknown = text
      try { parsed = JSON.parse(text) } catch { /* plain text */ }
      resolve(
        { ok: code === 0, output: { exitCode: code, stdout: parsed, ...(err.length > 0 ? { stderr: err } : {}) } }
      )
    })
    child.stdin.on('error', () => { /* the program may exit without reading */ })
    child.stdin.end(JSON.stringify(input.payload ?? null))
  })
}
