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
  // Larger meshes gossip more heartbeats (every member hears every other's keep-alive, one per half
  // stale window): slow them down so 20 to 50 nodes idle lightly on 2 cores.
  const timing = count > 8
    ? { heartbeatMs: 2000, staleMs: 20_000, driftGraceMs: 10_000 }
    : { heartbeatMs: 1000, staleMs: 6000, driftGraceMs: 5000 }
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
