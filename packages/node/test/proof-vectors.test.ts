import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CID, decodeEntry, fromHex, nobleCrypto, verifyProof, type SignedEntry } from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { readProofCar } from '../src/proof-car.js'

const vectorDir = new URL('../../core/test/vectors/', import.meta.url)
const entries = JSON.parse(
  readFileSync(new URL('entries.json', vectorDir), 'utf8')
) as { entries: Array<{ bytes: string }> }
const proofs = JSON.parse(readFileSync(new URL('proofs.json', vectorDir), 'utf8')) as {
  proofs: Array<{ name: string, root: string, expect?: string, valid: boolean, reason?: string, car: string }>
}
const genesis = decodeEntry(fromHex(entries.entries[0]!.bytes)) as SignedEntry<'mesh.genesis'>

describe('proof vectors: every CAR gets its verdict', () => {
  it('has valid and invalid proofs', () => {
    expect(proofs.proofs.filter(p => p.valid).length).toBeGreaterThanOrEqual(3)
    expect(new Set(proofs.proofs.filter(p => !p.valid).map(p => p.reason)).size).toBeGreaterThanOrEqual(6)
  })
  for (const crypto of [nobleCrypto, nodeCrypto]) {
    it(`verdicts and reasons match (${crypto.name})`, async () => {
      for (const p of proofs.proofs) {
        const { root, blocks } = await readProofCar(fromHex(p.car))
        expect(root.toString(), p.name).toBe(p.root)
        const v = verifyProof(
          { root, blocks, genesis, crypto, ...(p.expect !== undefined ? { expect: CID.parse(p.expect) } : {}) }
        )
        expect(
          { name: p.name, valid: v.valid, reason: v.reason }
        ).toEqual({ name: p.name, valid: p.valid, reason: p.reason })
      }
    })
  }
})
