import { format } from 'node:util'
import { pino, type DestinationStream } from 'pino'
import debug from 'weald'
import { textLine } from './log-text.js'

/**
 * Structured logs through pino: JSON lines (`{"level":"info","time":"…","name":"node1","msg":"…",…}`)
 * or text.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFormat = 'text' | 'json'
export type Logger = Record<LogLevel, (msg: string, fields?: Record<string, unknown>) => void>

export interface LoggerInit {
  level?: LogLevel
  /** Shown on every line: the node's name (or short PeerId). */
  name?: string
  /** `text` for people (the default on a terminal), `json` for log collectors (the default otherwise). */
  format?: LogFormat
  /** Where lines go (default stdout); each call receives one line without its newline. */
  write?: (line: string) => void
  /**
   * Bridges libp2p's own debug logs (the `debug`-style `libp2p:*` namespaces) into this logger at
   * level debug. Only takes effect with `level: 'debug'`; the bridge is process-wide.
   */
  libp2pDebug?: boolean
}

/** The default format: text when stdout is a terminal. */
export function defaultLogFormat (): LogFormat {
  return process.stdout.isTTY === true ? 'text' : 'json'
}

/**
 * Creates a logger writing one line per record.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: 'info', name: 'node1', format: 'text' })
 * log.info('peer connected', { peer })
 * ```
 */
export function createLogger (init: LoggerInit = {}): Logger {
  const fmt = init.format ?? defaultLogFormat()
  const out = init.write ?? ((line: string) => { process.stdout.write(line + '\n') })
  const destination: DestinationStream = {
    write: (json: string) => { out(fmt === 'json' ? json.trimEnd() : textLine(json)) }
  }
  const base = pino({
    level: init.level ?? 'info',
    base: init.name !== undefined ? { name: init.name } : null,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) }
  }, destination)
  if (init.libp2pDebug === true && init.level === 'debug') bridgeLibp2p(base)
  const make = (level: LogLevel) => (
    msg: string, fields: Record<string, unknown> = {}
  ): void => { base[level](fields, msg) }
  return { debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') }
}

/** Routes every enabled `libp2p:*` debug namespace into `log` (not its trace namespaces: too many). */
function bridgeLibp2p (log: pino.Logger): void {
  debug.enable('libp2p:*,-libp2p:*:trace')
  // debug formats "%s"-style arguments; the namespace becomes a field instead of a colored prefix.
  debug.formatArgs = function noPrefix () {}
  debug.log = function (this: { namespace?: string }, ...args: unknown[]) {
    log.debug({ libp2p: this.namespace }, format(...args))
  }
}

/** A logger that drops everything (library use, benchmarks). */
export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

/**
 * A logger for one component: every line carries `component` (e.g. `sync`, `exec`), so an
 * operator can filter one service's lines.
 *
 * @example
 * ```ts
 * const log = componentLogger(nodeLog, 'sync')
 * log.warn('sync pull failed', { peer })
 * ```
 */
export function componentLogger (log: Logger, component: string): Logger {
  const scoped = (level: LogLevel) => (msg: string, fields: Record<string, unknown> = {}): void => {
    log[level](msg, { component, ...fields })
  }
  return { debug: scoped('debug'), info: scoped('info'), warn: scoped('warn'), error: scoped('error') }
}
