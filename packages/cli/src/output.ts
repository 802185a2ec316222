/** Exit codes shared by every command (documented in the README). */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  refused: 3
} as const

/** An error the CLI reports as one line on stderr, with its exit code. */
export class CliError extends Error {
  readonly exitCode: number
  constructor (message: string, exitCode: number = EXIT.error) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

/** Prints JSON (for scripts) or the human rendering. */
export function emit (json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : human() + '\n')
}

/** Renders rows as an aligned text table. */
export function table (header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}
