import { decodeGenesisFile, verifyProof, type ProofVerdict } from '@govmesh/core'
import { readProofCar } from '@govmesh/node/proof-car'

export interface TimedVerdict {
  verdict: ProofVerdict
  ms: number
}

/**
 * What `govmesh proof verify FILE --genesis GENESIS` does, in the browser: the same CAR reader
 * and the same `verifyProof` of `@govmesh/core` (with `@noble/curves`), trusting only the genesis.
 */
export async function verifyProofFiles(car: Uint8Array, genesisText: string): Promise<TimedVerdict> {
  const genesis = decodeGenesisFile(genesisText)
  const t0 = performance.now()
  let verdict: ProofVerdict
  try {
    const { root, blocks } = await readProofCar(car)
    verdict = verifyProof({ root, blocks, genesis })
  } catch (err) {
    verdict = {
      valid: false,
      reason: 'proof.car',
      message: `not a readable proof CAR: ${(err as Error).message}`,
      root: '',
      meshId: genesis.id,
      entries: 0,
      hops: []
    }
  }
  return { verdict, ms: performance.now() - t0 }
}
