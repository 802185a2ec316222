/** One line of a line diff. */
export interface DiffLine {
  kind: 'same' | 'add' | 'del'
  text: string
}

/**
 * Line diff by longest common subsequence (policies are a few hundred lines at most,
 * so the quadratic table is cheap). Unchanged runs longer than `context` lines around a
 * change are folded into one "…" line.
 */
export function diffLines(before: string, after: string, context = 3): DiffLine[] {
  const a = before.split('\n')
  const b = after.split('\n')
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0))
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!)
    }
  }
  const out: DiffLine[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    // On a tie the deletion goes first, as in a unified diff.
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push({ kind: 'same', text: a[i]! })
      i++
      j++
    } else if (j < b.length && (i >= a.length || lcs[i]![j + 1]! > lcs[i + 1]![j]!)) {
      out.push({ kind: 'add', text: b[j]! })
      j++
    } else {
      out.push({ kind: 'del', text: a[i]! })
      i++
    }
  }
  return fold(out, context)
}

function fold(lines: DiffLine[], context: number): DiffLine[] {
  const near = lines.map((_, k) => lines.slice(Math.max(0, k - context), k + context + 1).some(l => l.kind !== 'same'))
  const out: DiffLine[] = []
  lines.forEach((l, k) => {
    if (near[k] === true) out.push(l)
    else if (out.at(-1)?.text !== '…') out.push({ kind: 'same', text: '…' })
  })
  return out
}
