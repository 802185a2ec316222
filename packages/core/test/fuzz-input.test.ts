import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  checkExecRequestInput, createDag, execRequestBody, GovmeshError, nextEntry, type InputRejectedError, verifyProof,
  type CryptoProvider
} from '../src/index.js'
import { nodeCrypto } from '../src/node-crypto.js'
import { buildMesh } from './helpers.js'
import { jsonText } from './json-arbitrary.js'

/**
 * Differential fuzzing of the origin's write path against a peer's read path: random
 * JSON texts (deep nesting, integers past 2^53, floats incl. -0 and integral floats,
 * any UTF-16 including lone surrogates, empty and odd keys) go through what the API
 * does with a request body. Whatever is accepted must round-trip byte for byte through
 * stock @ipld/dag-cbor, be accepted by a second DAG and verify as a proof; whatever is
 * refused must be refused before anything is signed. GOVMESH_FUZZ_RUNS scales it up.
 */
const RUNS = Number(process.env.GOVMESH_FUZZ_RUNS ?? 10_000)
// Chunks of at most 1,000 cases, each its own test and seed, so no test holds the worker for long.
const CHUNK = 1000

/** Counts signatures so a refusal can be shown to happen before any. */
function countingCrypto (): CryptoProvider & { signed: number } {
  const c = { ...nodeCrypto, signed: 0 }
  c.sign = (m, k) => { c.signed++; return nodeCrypto.sign(m, k) }
  return c
}

describe(`differential fuzz: origin write path vs peer read path (${RUNS} cases, seeds 8+)`, () => {
  const mesh = buildMesh({ label: 'fuzz' })
  const author = mesh.members[0]!
  // Only positions are read from it (every case is the author's seq 1), so one is enough.
  const origin = createDag({ genesis: mesh.genesis, crypto: nodeCrypto })
  for (let chunk = 0; chunk * CHUNK < RUNS; chunk++) {
    const runs = Math.min(CHUNK, RUNS - chunk * CHUNK)
    const seed = 8 + chunk
    it(`seed ${seed}, ${runs} cases: accepted requests round-trip through stock dag-cbor, a second DAG and a proof; refused ones sign nothing`, () => {
    let accepted = 0
    let refused = 0
    fc.assert(fc.property(jsonText, (text) => {
      let payload: unknown
      try { payload = JSON.parse(text) } catch { return }
      const body = execRequestBody({ action: 'echo', resource: 'fuzz', target: 'zone:a', payload, nonce: 'n' })
      const crypto = countingCrypto()
      let inputError: unknown
      try { checkExecRequestInput(body) } catch (err) { inputError = err }
      if (inputError !== undefined) {
        refused++
        expect((inputError as GovmeshError).code).toBe('input.rejected')
        // A lone surrogate would be encoded as U+FFFD: valid for peers, but not what the user sent.
        if ((inputError as InputRejectedError).rule === 'unicode') return
        // Anything else the codec refuses too, before signing, even past the API check.
        expect(() => nextEntry(origin, author, { type: 'exec.request', body, time: 1 }, crypto)).toThrow(GovmeshError)
        expect(crypto.signed).toBe(0)
        return
      }
      let signed
      try {
        signed = nextEntry(origin, author, { type: 'exec.request', body, time: 1 }, crypto)
      } catch (err) {
        // Only the size limit is left for the codec to find, and it finds it before signing.
        expect((err as GovmeshError).code).toBe('entry.too-large')
        expect(crypto.signed).toBe(0)
        return
      }
      accepted++
      expect(dagCbor.encode(dagCbor.decode(signed.bytes))).toEqual(signed.bytes)
      const peer = createDag({ genesis: mesh.genesis.bytes, crypto: nodeCrypto })
      expect(peer.add(signed.bytes).status).toBe('accepted')
      const blocks = [mesh.genesis, signed].map(e => ({ cid: e.cid, bytes: e.bytes }))
      const verdict = verifyProof({ root: signed.cid, blocks, genesis: mesh.genesis, crypto: nodeCrypto })
      expect(verdict.valid, verdict.message).toBe(true)
    }), { seed, numRuns: runs })
    // The generator must exercise both sides, or the property proves little.
    expect(accepted).toBeGreaterThan(runs / 4)
    expect(refused).toBeGreaterThan(runs / 20)
    }, 120_000)
  }
})
