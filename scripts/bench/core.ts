import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import {
  compilePolicy, createDag, createEntry, execRequestBody, createGenesis, decide, keyPairFromSecret, nextEntry,
  nextPosition,
  parsePolicyDocument, policyDigest, signingBytes, toHex, type Dag, type DecisionRequest, type SignedEntry
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { cpuClock, measure } from './measure.js'

export interface CoreFigures {
  rawVerifyPerSec: number
  entryVerifyPerSec: number
  entryVerifyRatio: number
  entrySignPerSec: number
  rawSignPerSec: number
  entrySignRatio: number
  /** createEntry alone (encode, pre-sign check, sign, CID) at a fixed position: the signing part of the append path. */
  createEntryPerSec: number
  decidePerSec: number
  decideRules: number
}

const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n)

/**
 * Entry verify path vs raw node:crypto verify, entry signing vs raw sign, and decide() at 1,000 rules.
 * Every figure is per second of this process's CPU time (see cpuClock): the machine is shared.
 */
export async function benchCore (): Promise<CoreFigures> {
  const governor = keyPairFromSecret(seed(1), nodeCrypto)
  const members = [2, 3, 4, 5].map(n => keyPairFromSecret(seed(n), nodeCrypto))
  const genesis = createGenesis(
    { governors: [governor.publicKey], members: members.map((m, i) => ({ key: m.publicKey, zone: `z${i}` })) },
    governor, nodeCrypto
  )

  // A realistic stream: members take turns, each entry cites the others' heads. Best of
  // three rounds, like the verify path, so the figure is not the JIT's warm-up; a raw sign
  // round (same signer, a message of the same size) precedes each, so both see the same load.
  const payload = execRequestBody(
    { action: 'echo', resource: 'jobs/123', target: 'zone:b', payload: { text: 'hello world' }, nonce: 'bench' }
  )
  const ENTRIES = 6000
  const signer = members[0]!
  const secret = createPrivateKey({
    key: {
      kty: 'OKP', crv: 'Ed25519',
      d: Buffer.from(signer.secretKey).toString('base64url'), x: Buffer.from(signer.publicKey).toString('base64url')
    },
    format: 'jwk'
  })
  const sample = nextEntry(
    createDag({ genesis: genesis.bytes, crypto: nodeCrypto }), signer,
    { type: 'exec.request', body: payload, time: 1_767_225_600_000 }, nodeCrypto
  )
  const signMessage = signingBytes(sample.entry)
  let entries: SignedEntry[] = []
  let last: Dag | undefined
  let entrySignPerSec = 0
  let rawSignPerSec = 0
  for (let round = 0; round < 3; round++) {
    rawSignPerSec = Math.max(rawSignPerSec, measure(() => { sign(null, signMessage, secret) }, 300, cpuClock))
    const source = last = createDag({ genesis: genesis.bytes, crypto: nodeCrypto })
    entries = []
    const signStart = cpuClock()
    for (let i = 0; i < ENTRIES; i++) {
      const e = nextEntry(
        source, members[i % members.length]!, { type: 'exec.request', body: payload, time: 1_767_225_600_000 + i },
        nodeCrypto
      )
      source.add(e, { verified: true })
      entries.push(e)
    }
    entrySignPerSec = Math.max(entrySignPerSec, ENTRIES / ((cpuClock() - signStart) / 1000))
  }

  const position = nextPosition(last!, toHex(signer.publicKey))
  let createEntryPerSec = 0
  for (let round = 0; round < 3; round++) {
    let i = 0
    createEntryPerSec = Math.max(createEntryPerSec, measure(() => {
      createEntry(
        { ...position, type: 'exec.request', body: payload, time: 1_767_225_600_000 + i++ }, signer, nodeCrypto
      )
    }, 300, cpuClock))
  }

  const raw = entries[0]!
  const message = signingBytes(raw.entry)
  const key = createPublicKey(
    { key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw.entry.author).toString('base64url') }, format: 'jwk' }
  )
  const rawVerify = (): void => { if (!verify(null, message, key, raw.entry.sig)) throw new Error('verify failed') }

  // Raw and entry rounds alternate, each the best of three, so both see the same load on a shared machine.
  let best = 0
  let rawVerifyPerSec = 0
  for (let round = 0; round < 3; round++) {
    rawVerifyPerSec = Math.max(rawVerifyPerSec, measure(rawVerify, 300, cpuClock))
    const dag = createDag({ genesis: genesis.bytes, crypto: nodeCrypto })
    const t0 = cpuClock()
    for (const e of entries) dag.add(e.bytes)
    const rate = entries.length / ((cpuClock() - t0) / 1000)
    if (dag.size !== entries.length + 1) throw new Error('bench: not every entry was accepted')
    best = Math.max(best, rate)
  }

  const rules = []
  for (let i = 0; i < 1000; i++) {
    rules.push({
      id: `r${String(i).padStart(4, '0')}`,
      effect: i % 10 === 9 ? 'deny' : 'allow',
      principals: i % 3 === 0 ? ['local'] : ['role:ops', 'key:' + '0'.repeat(63) + String(i % 10)],
      actions: i % 50 === 0 ? [`svc${i % 100}.*`] : [`svc${i % 100}.act${i % 7}`],
      resources: [`res/${i % 20}/*`],
      zones: ['*']
    })
  }
  const doc = parsePolicyDocument({ rules, roles: { ops: ['local'] }, transitions: [['a', 'b']] })
  const compiled = compilePolicy(doc, policyDigest(doc, nodeCrypto))
  const requests: DecisionRequest[] = []
  for (let i = 0; i < 1024; i++) {
    requests.push(
      {
        principal: 'local', signed: false, action: `svc${i % 100}.act${i % 7}`, resource: `res/${i % 20}/item${i}`,
        zone: i % 2 === 0 ? 'a' : 'b', fromZone: 'a', hops: 1, peers: ['p1', 'p2']
      }
    )
  }
  const trust = { self: 'trusted' as const, peer: () => 'trusted' as const }
  let n = 0
  const decidePerSec = measure(() => { decide(requests[n++ & 1023]!, compiled, trust) }, 600, cpuClock)

  return {
    rawVerifyPerSec: Math.round(rawVerifyPerSec),
    entryVerifyPerSec: Math.round(best),
    entryVerifyRatio: Number((best / rawVerifyPerSec).toFixed(3)),
    entrySignPerSec: Math.round(entrySignPerSec),
    rawSignPerSec: Math.round(rawSignPerSec),
    entrySignRatio: Number((entrySignPerSec / rawSignPerSec).toFixed(3)),
    createEntryPerSec: Math.round(createEntryPerSec),
    decidePerSec: Math.round(decidePerSec),
    decideRules: rules.length
  }
}
