import { createPublicKey, verify } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createDag, createGenesis, encodeKeyFile, execRequestBody, generateKeyPair, nextEntry, signingBytes, type KeyPair,
  type SignedEntry
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { createGovmeshNode, silentLogger, type GovmeshNode } from '@govmesh/node'
import { measure } from './measure.js'

export interface SyncFigures {
  /** With the verify pool (worker threads, the default). */
  syncEntriesPerSec: number
  rawVerifyPerSec: number
  syncToVerifyRatio: number
  /** The same sync with signatures checked on the main thread only (`verifyThreads: 0`). */
  syncEntriesPerSecOneThread: number
  syncToVerifyRatioOneThread: number
  verifyThreads: number
  entries: number
  seconds: number
}

function dataDir (root: string, name: string, keys: KeyPair): string {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'node.key'), JSON.stringify(encodeKeyFile(keys)), { mode: 0o600 })
  return dir
}

/** A fresh node syncs N entries from a peer over real libp2p; compared with raw verify in the same run. */
export async function benchSync (count = 6_000): Promise<SyncFigures> {
  const root = mkdtempSync(join(tmpdir(), 'govmesh-bench-sync-'))
  const governor = generateKeyPair(nodeCrypto)
  const a = generateKeyPair(nodeCrypto)
  const b = generateKeyPair(nodeCrypto)
  const c = generateKeyPair(nodeCrypto)
  const writer = generateKeyPair(nodeCrypto)
  const genesis = createGenesis(
    { governors: [governor.publicKey], members: [a, b, c, writer].map(k => ({ key: k.publicKey, zone: 'a' })) },
    governor, nodeCrypto
  )
  const mirror = createDag({ genesis: genesis.bytes, crypto: nodeCrypto })
  const entries: SignedEntry[] = []
  for (let i = 0; i < count; i++) {
    const e = nextEntry(
      mirror, writer,
      {
        type: 'exec.request',
        body: execRequestBody(
          { action: 'echo', resource: `jobs/${i}`, target: 'zone:a', payload: { i }, nonce: String(i) }
        )
      },
      nodeCrypto
    )
    mirror.add(e, { verified: true })
    entries.push(e)
  }
  let source: GovmeshNode | undefined
  let fresh: GovmeshNode | undefined
  try {
    source = await createGovmeshNode({ dataDir: dataDir(root, 'a', a), genesis, logger: silentLogger })
    for (let i = 0; i < entries.length; i += 500) await source.ingest(
      entries.slice(i, i + 500).map(e => e.bytes), 'api'
    )
    if (source.dag.size !== count + 1) throw new Error(`source holds ${source.dag.size} entries`)

    const sample = entries[0]!
    const message = signingBytes(sample.entry)
    const key = createPublicKey(
      { key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(sample.entry.author).toString('base64url') }, format: 'jwk' }
    )
    // Measured before every sync run and the best kept, like the syncs: one window during a neighbour's burst
    // would otherwise skew the ratio of the whole run.
    let rawVerifyPerSec = 0
    const rawVerify = (): void => {
      rawVerifyPerSec = Math.max(rawVerifyPerSec, measure(() => { verify(null, message, key, sample.entry.sig) }, 400))
    }

    const syncOnce = async (name: string, keys: KeyPair, verifyThreads: number | undefined): Promise<number> => {
      const t0 = performance.now()
      const node = fresh = await createGovmeshNode({
        dataDir: dataDir(root, name, keys), genesis, bootstrap: source!.addrs(), logger: silentLogger, verifyThreads
      })
      const target = source!.dag.size
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error(`sync incomplete: ${node.dag.size}/${target}`)) }, 120_000)
        const check = (): void => {
          if (node.dag.size >= target) { clearTimeout(timer); node.off('entry:added', check); resolve() }
        }
        node.on('entry:added', check)
        check()
      })
      const seconds = (performance.now() - t0) / 1000
      await node.stop()
      fresh = undefined
      return seconds
    }
    // Alternating, best of two each: neither mode gets all of the cold start or of a quiet moment.
    let seconds = Infinity
    let oneThreadSeconds = Infinity
    for (let round = 0; round < 2; round++) {
      rawVerify()
      oneThreadSeconds = Math.min(oneThreadSeconds, await syncOnce(`c${round}`, c, 0))
      rawVerify()
      seconds = Math.min(seconds, await syncOnce(`b${round}`, b, undefined))
    }
    const syncEntriesPerSec = count / seconds
    const syncEntriesPerSecOneThread = count / oneThreadSeconds
    return {
      syncEntriesPerSec: Math.round(syncEntriesPerSec),
      rawVerifyPerSec: Math.round(rawVerifyPerSec),
      syncToVerifyRatio: Number((syncEntriesPerSec / rawVerifyPerSec).toFixed(3)),
      syncEntriesPerSecOneThread: Math.round(syncEntriesPerSecOneThread),
      syncToVerifyRatioOneThread: Number((syncEntriesPerSecOneThread / rawVerifyPerSec).toFixed(3)),
      verifyThreads: Math.max(1, availableParallelism() - 1),
      entries: count,
      seconds: Number(seconds.toFixed(3))
    }
  } finally {
    await fresh?.stop()
    await source?.stop()
    rmSync(root, { recursive: true, force: true })
  }
}
