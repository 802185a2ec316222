import {
  createDag, createGenesis, execRequestBody, keyPairFromSecret, nextEntry, verifyProof
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { exportProofCar, readProofCar } from '@govmesh/node'

export interface ProofFigures {
  ancestry: number
  exportMs: number
  verifyMs: number
  carBytes: number
}

/** Export and offline verification (noble) of a proof whose ancestry holds 1,000+ entries. */
export async function benchProof (count = 1000): Promise<ProofFigures> {
  const key = (n: number): ReturnType<typeof keyPairFromSecret> => keyPairFromSecret(
    new Uint8Array(32).fill(n), nodeCrypto
  )
  const gov = key(1)
  const members = [key(2), key(3), key(4)]
  const genesis = createGenesis(
    { governors: [gov.publicKey], members: members.map((m, i) => ({ key: m.publicKey, zone: ['a', 'b', 'c'][i]! })) },
    gov, nodeCrypto
  )
  const dag = createDag({ genesis, crypto: nodeCrypto })
  for (let i = 0; i < count; i++) {
    dag.add(
      nextEntry(
        dag, members[i % 3]!,
        {
          type: 'exec.request',
          body: execRequestBody({ action: 'echo', resource: `r/${i}`, target: 'zone:a', nonce: String(i) })
        },
        nodeCrypto
      ),
      { verified: true }
    )
  }
  const request = nextEntry(
    dag, members[0]!,
    {
      type: 'exec.request',
      body: execRequestBody({ action: 'echo', resource: 'final', target: 'zone:c', nonce: 'final' })
    },
    nodeCrypto
  )
  dag.add(request, { verified: true })
  const result = nextEntry(
    dag, members[2]!,
    { type: 'exec.result', body: { request: request.cid, ok: true, executor: 'echo', output: null, durationMs: 1 } },
    nodeCrypto
  )
  dag.add(result, { verified: true })
  const t0 = performance.now()
  const car = exportProofCar(dag, result.id)
  const t1 = performance.now()
  const { root, blocks } = await readProofCar(car)
  const verdict = verifyProof({ root, blocks, genesis })
  const t2 = performance.now()
  if (!verdict.valid) throw new Error(`proof did not verify: ${verdict.reason} ${verdict.message}`)
  return {
    ancestry: verdict.entries, exportMs: Number((t1 - t0).toFixed(1)), verifyMs: Number((t2 - t1).toFixed(1)),
    carBytes: car.length
  }
}
