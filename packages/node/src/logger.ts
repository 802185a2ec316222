/** Structured log lines: one JSON object per line on stdout, e.g. {"time":..,"level":"info","msg":"node started",...}. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type Logger = Record<LogLevel, (msg: string, fields?: Record<string, unknown>) => void>

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/**
 * Creates a JSON-lines logger.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: 'info', name: 'node' })
 * log.info('peer connected', { peer })
 * ```
 */
export function createLogger (init: { level?: LogLevel, name?: string, write?: (line: string) => void } = {}): Logger {
  const min = RANK[init.level ?? 'info']
  const write = init.write ?? ((line: string) => { process.stdout.write(line + '\n') })
  const make = (level: LogLevel) => (msg: string, fields: Record<string, unknown> = {}): void => {
    if (RANK[level] < min) return
    write(JSON.stringify({ time: new Date().toISOString(), level, ...(init.name !== undefined ? { name: init.name } : {}), msg, ...fields }))
  }
  return { debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') }
}

/** A logger that drops everything (library use, benchmarks). */
export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }
