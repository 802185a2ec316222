import { describe, expect, it } from 'vitest'
import { diffLines } from '../src/diff.js'

describe('policy diff', () => {
  it('marks added and removed lines and keeps the unchanged ones between them', () => {
    const before = ['{', '  "a": 1,', '  "b": 2', '}'].join('\n')
    const after = ['{', '  "a": 1,', '  "c": 3', '}'].join('\n')
    expect(diffLines(before, after)).toEqual([
      { kind: 'same', text: '{' },
      { kind: 'same', text: '  "a": 1,' },
      { kind: 'del', text: '  "b": 2' },
      { kind: 'add', text: '  "c": 3' },
      { kind: 'same', text: '}' }
    ])
  })

  it('folds long unchanged runs away from a change into one ellipsis line', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`)
    const after = [...lines.slice(0, 19), 'changed']
    const diff = diffLines(lines.join('\n'), after.join('\n'), 2)
    expect(diff[0]).toEqual({ kind: 'same', text: '…' })
    expect(diff.filter(l => l.kind === 'same' && l.text !== '…')).toHaveLength(2)
    expect(diff.slice(-2)).toEqual([
      { kind: 'del', text: 'line 19' },
      { kind: 'add', text: 'changed' }
    ])
  })

  it('reports no change for equal documents', () => {
    expect(diffLines('x\ny', 'x\ny').every(l => l.kind === 'same')).toBe(true)
  })
})
