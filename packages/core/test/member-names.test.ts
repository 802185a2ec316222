import { describe, expect, it } from 'vitest'
import {
  createGenesis, decodeEntry, decodeGenesisFile, encodeGenesisFile, generateKeyPair, genesisState, peerIdFromPublicKey
} from '../src/index.js'

describe('genesis member names', () => {
  const gov = generateKeyPair()
  const named = generateKeyPair()
  const plain = generateKeyPair()

  it('a name is signed in the genesis, listed in the file and kept in the governance state', () => {
    const g = createGenesis(
      {
        governors: [gov.publicKey],
        members: [{ key: named.publicKey, zone: 'a', name: 'alpha' }, { key: plain.publicKey, zone: 'b' }]
      },
      gov
    )
    const back = decodeGenesisFile(JSON.stringify(encodeGenesisFile(g)))
    expect(back.id).toBe(g.id)
    const file = encodeGenesisFile(g)
    expect(file.members).toContainEqual({ peerId: peerIdFromPublicKey(named.publicKey), zone: 'a', name: 'alpha' })
    expect(file.members).toContainEqual({ peerId: peerIdFromPublicKey(plain.publicKey), zone: 'b' })
    const state = genesisState(back.entry.body)
    expect([...state.members.values()].map(m => m.name ?? null).sort()).toEqual(['alpha', null])
  })

  it('an unnamed member encodes exactly as before (no name key)', () => {
    const g = createGenesis(
      { governors: [gov.publicKey], members: [{ key: plain.publicKey, zone: 'b' }], time: 1 }, gov
    )
    expect(Object.keys(g.entry.body.members[0]!)).toEqual(['key', 'zone'])
  })

  it('a malformed name is refused, when signing as when decoding', () => {
    const bad = { governors: [gov.publicKey], members: [{ key: named.publicKey, zone: 'a', name: 'has space' }] }
    expect(() => createGenesis(bad, gov)).toThrow(/members\[0\]\.name: expected a name matching/)
    const ok = createGenesis(
      { governors: [gov.publicKey], members: [{ key: named.publicKey, zone: 'a', name: 'x' }] }, gov
    )
    expect(decodeEntry(ok.bytes).id).toBe(ok.id)
  })
})
