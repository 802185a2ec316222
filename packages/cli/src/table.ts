/** How a table is laid out: `wide` shows every cell in full; otherwise it fits `width` columns. */
export interface TableOptions {
  wide?: boolean
  /** Terminal width; default: the terminal's when stdout is one, else unlimited. */
  width?: number
  /** Column indexes that shrink first when the table is too wide (default: the widest ones). */
  shrink?: number[]
}

const MIN_COLUMN = 8

/** Cuts a cell to `width` characters, marking the cut with an ellipsis. */
function cut (cell: string, width: number): string {
  return cell.length <= width ? cell : cell.slice(0, Math.max(1, width - 1)) + '…'
}

function terminalWidth (): number | undefined {
  if (process.stdout.isTTY !== true) return undefined
  return process.stdout.columns
}

/**
 * Renders rows as an aligned text table that fits the terminal: when too wide, the widest
 * shrinkable columns are truncated (with `…`) until it fits; `wide` disables truncation.
 *
 * @example
 * ```ts
 * console.log(table(['NODE', 'STATUS'], [['node1', 'trusted']], { wide: opts.output === 'wide' }))
 * ```
 */
export function table (header: string[], rows: string[][], opts: TableOptions = {}): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const limit = opts.wide === true ? undefined : opts.width ?? terminalWidth()
  if (limit !== undefined) {
    const shrinkable = opts.shrink ?? widths.map((_, i) => i)
    const total = (): number => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1)
    while (total() > limit) {
      const widest = shrinkable.filter(i => widths[i]! > Math.max(MIN_COLUMN, header[i]!.length))
        .sort((a, b) => widths[b]! - widths[a]!)[0]
      if (widest === undefined) break
      widths[widest] = Math.max(MIN_COLUMN, header[widest]!.length, widths[widest]! - (total() - limit))
    }
  }
  const line = (cells: string[]): string => cells.map(
    (c, i) => cut(c, widths[i]!).padEnd(widths[i]!)
  ).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}
