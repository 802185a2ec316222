/**
 * Worker thread of the verify pool: decodes each entry it is sent and checks its signature
 * (core's own `decodeEntry`), answering with the entry's id, or null when it fails.
 * Holds no state but the key cache of its crypto provider.
 */
import { parentPort } from 'node:worker_threads'
import { decodeEntry } from '@govmesh/core'
import { createNodeCrypto } from '@govmesh/core/node-crypto'
import type { VerifyRequest, VerifyResponse } from './verify-pool.js'

const crypto = createNodeCrypto()

parentPort?.on('message', (req: VerifyRequest) => {
  const ids = req.entries.map((bytes) => {
    try {
      return decodeEntry(bytes, { crypto }).id
    } catch {
      return null
    }
  })
  const res: VerifyResponse = { job: req.job, ids }
  parentPort!.postMessage(res)
})
