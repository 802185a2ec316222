/** Exit codes shared by every command (documented in the README). */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  refused: 3
} as const

/**
 * An error the CLI reports as one line on stderr (or one JSON object with `--json`), with its
 * exit code and a stable `code` (e.g. `cli.not-running`) for scripts.
 */
export class CliError extends Error {
  readonly exitCode: number
  readonly code: string
  constructor (
    message: string, exitCode: number = EXIT.error, code: string = exitCode === EXIT.usage ? 'cli.usage' : 'cli.error'
  ) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode
    this.code = code
  }
}

/** Prints JSON (for scripts) or the human rendering. */
export function emit (json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : human() + '\n')
}

export { table, type TableOptions } from './table.js'
