import { describe, expect, it } from 'vitest'
import { table } from '../src/table.js'
import { textLine } from '../../node/src/log-text.js'
import { peerLabel, shortPeerId } from '../src/names.js'

const PEER = '12D3KooWCyG28fCN2HvfPEfiFd3BCNCUmmYFVhqCDhtoraPiyMmr'

describe('tables fit the terminal', () => {
  const rows = [
    [PEER, 'quarantined', 'runtime measurement badbad0000000000… is not in the policy allowlist (4 reports)']
  ]
  it('truncates the widest columns with an ellipsis to fit the width', () => {
    const out = table(['PEER', 'STATUS', 'REASON'], rows, { width: 80 })
    for (const line of out.split('\n')) expect(line.length).toBeLessThanOrEqual(80)
    expect(out).toContain('…')
    expect(out).toContain('quarantined')
  })
  it('-o wide shows every cell in full', () => {
    const out = table(['PEER', 'STATUS', 'REASON'], rows, { width: 80, wide: true })
    expect(out).toContain(PEER)
    expect(out).toContain(rows[0]![2])
  })
  it('only the named columns shrink', () => {
    const out = table(['PEER', 'STATUS', 'REASON'], rows, { width: 100, shrink: [2] })
    expect(out).toContain(PEER)
    expect(out.split('\n')[1]!.length).toBeLessThanOrEqual(100)
  })
})

describe('names beside PeerIds', () => {
  it('a named member is "name (…short)", or with the full PeerId when wide; others keep their PeerId', () => {
    const names = new Map([[PEER, 'alpha']])
    expect(peerLabel(PEER, names, false)).toBe(`alpha (${shortPeerId(PEER)})`)
    expect(shortPeerId(PEER)).toBe('…raPiyMmr')
    expect(peerLabel(PEER, names, true)).toBe(`alpha (${PEER})`)
    expect(peerLabel(PEER, new Map(), false)).toBe(PEER)
  })
})

describe('text log lines', () => {
  it('time, level, node name, message, then the fields', () => {
    const line = textLine(
      JSON.stringify(
        {
          level: 'info', time: '2026-12-01T12:00:01.234Z', name: 'node1', msg: 'peer connected', peer: PEER,
          member: true, note: 'two words'
        }
      )
    )
    expect(line).toBe(`12:00:01.234 INFO  node1  peer connected peer=${PEER} member=true note="two words"`)
  })
})
