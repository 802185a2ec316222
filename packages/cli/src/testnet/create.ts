import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createGenesis, encodeGenesisFile, generateKeyPair, parsePolicyDocument, policyUpdateFor } from '@govmesh/core'
import { measureRuntime } from '@govmesh/node'
import { writeKeyFile } from '../keyfile.js'
import { ZONES } from './state.js'

const DEMO_POLICY = fileURLToPath(new URL('../../../../testnet/policies/demo.json', import.meta.url))
const FALLBACK_POLICY = {
  rules: [
    {
      id: 'echo-local-operator', effect: 'allow', principals: ['local'], actions: ['echo'], resources: ['*'],
      zones: ['a', 'b', 'c']
    }
  ],
  transitions: [['a', 'b'], ['b', 'c']],
  maxHops: 4
}

/** Creates keys, genesis (members named node1..N) and data dirs for a new testnet. */
export function createTestnet (dir: string, count: number): void {
  mkdirSync(dir, { recursive: true })
  const governor = generateKeyPair()
  writeKeyFile(join(dir, 'governor.key'), governor, false)
  const zones: Record<string, string> = {}
  const members = []
  for (let i = 1; i <= count; i++) {
    const name = `node${i}`
    mkdirSync(join(dir, name), { recursive: true, mode: 0o700 })
    const keys = generateKeyPair()
    writeKeyFile(join(dir, name, 'node.key'), keys, false)
    zones[name] = ZONES[(i - 1) % ZONES.length]!
    members.push({ key: keys.publicKey, zone: zones[name], name })
  }
  const base = existsSync(DEMO_POLICY) ? JSON.parse(
    readFileSync(DEMO_POLICY, 'utf8')
  ) as Record<string, unknown> : FALLBACK_POLICY
  const timing = testnetTiming(count)
  const policyJson = { ...base, measurements: [measureRuntime()], timing }
  const policy = parsePolicyDocument(policyJson)
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(policyJson, null, 2) + '\n')
  const genesis = createGenesis(
    {
      name: 'testnet', governors: [governor.publicKey], members,
      policy: policyUpdateFor(null, policy) ?? new Uint8Array()
    },
    governor
  )
  writeFileSync(join(dir, 'genesis.json'), JSON.stringify(encodeGenesisFile(genesis), null, 2) + '\n')
  writeFileSync(join(dir, 'zones.json'), JSON.stringify(zones, null, 2) + '\n')
}

/** Testnets of more nodes than this get the stale window that grows with their size. */
const STALE_MS_PER_NODE = 3000
const SMALL_TESTNET = 8

/**
 * The timing a testnet of `count` nodes puts in its policy. Every member hears every other's
 * keep-alive, one per half stale window, so what an idle node spends grows with `count / staleMs`.
 * Up to 8 nodes a killed node is stale within 6 s; beyond, the stale window is 3 s per node (never
 * under 20 s), so each idle node hears about two keep-alives every three seconds whatever the
 * testnet's size: a 20-node testnet declares a silent member stale after 60 s, a 50-node one after 150 s.
 *
 * @example
 * ```ts
 * testnetTiming(5)  // { heartbeatMs: 1000, staleMs: 6000, driftGraceMs: 5000 }
 * testnetTiming(20) // { heartbeatMs: 2000, staleMs: 60000, driftGraceMs: 10000 }
 * ```
 */
export function testnetTiming (count: number): { heartbeatMs: number, staleMs: number, driftGraceMs: number } {
  if (count <= SMALL_TESTNET) return { heartbeatMs: 1000, staleMs: 6000, driftGraceMs: 5000 }
  return { heartbeatMs: 2000, staleMs: Math.max(20_000, count * STALE_MS_PER_NODE), driftGraceMs: 10_000 }
}
