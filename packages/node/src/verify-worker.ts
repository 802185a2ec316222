/**
 * Worker thread of the verify pool: decodes each entry it is sent and checks its signature
 * (core's own `decodeEntry`), answering with the entry's id, or null when it fails.
 * Holds no state but the key cache of its crypto provider.
 */
import { parentPort } from 'node:worker_threads'
import { decodeEntry } from '@govmesh/core'
import { createNodeCrypto } from '@govmesh/core/node-crypto'
import type { VerifyRequest, VerifyResponse, VerifyWorkerReady } from './verify-pool.js'

const crypto = createNodeCrypto()

parentPort?.on('message', (req: VerifyRequest) => {
  const ids: Array<string | null> = new Array<string | null>(req.ends.length)
  for (let k = 0; k < req.ends.length; k++) {
    try {
      ids[k] = decodeEntry(req.packed.subarray(req.ends[k - 1] ?? 0, req.ends[k]), { crypto }).id
    } catch {
      ids[k] = null
    }
  }
  const res: VerifyResponse = { job: req.job, ids }
  parentPort!.postMessage(res)
})

parentPort?.postMessage({ ready: true } satisfies VerifyWorkerReady)
