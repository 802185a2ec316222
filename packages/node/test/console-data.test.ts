import { describe, expect, it } from 'vitest'
import {
  createDag, createGenesis, createPolicyState, execRequestBody, keyPairFromSecret, nextEntry, parsePolicyDocument,
  policyUpdateFor, toHex, type Dag, type SignedEntry
} from '@govmesh/core'
import {
  childrenOf, lineageGraph, policyHistory, searchLineage, type LineageQuery
} from '../src/console-data.js'
import { memoryIndex } from '../src/history-index.js'

const key = (n: number): ReturnType<typeof keyPairFromSecret> => keyPairFromSecret(new Uint8Array(32).fill(n))
const gov = key(1)
const [a, b, c] = [key(2), key(3), key(4)]
const echoFor = (principal: string): unknown =>
  ({ rules: [{ id: 'echo', effect: 'allow', principals: [principal], actions: ['echo'] }] })
const first = parsePolicyDocument(echoFor('local'))
const second = parsePolicyDocument(echoFor('*'))

/** A mesh of three members with one policy change and an execution a → b → c, at fixed times. */
interface Built {
  dag: Dag
  request: SignedEntry
  hop: SignedEntry
  result: SignedEntry
  fail: SignedEntry
  other: SignedEntry
}

function build (): Built {
  const genesis = createGenesis({
    governors: [gov.publicKey],
    members: [{ key: a.publicKey, zone: 'a' }, { key: b.publicKey, zone: 'b' }, { key: c.publicKey, zone: 'c' }],
    policy: policyUpdateFor(null, first)!,
    time: 1000
  }, gov)
  const dag = createDag({ genesis })
  const add = <E extends SignedEntry>(e: E): E => { dag.add(e); return e }
  const update = policyUpdateFor(createPolicyState({ updates: [genesis.entry.body.policy] }), second)!
  add(nextEntry(dag, gov, { type: 'policy.update', body: { update }, time: 2000 }))
  const ask = (resource: string, target: string, time: number): SignedEntry =>
    add(nextEntry(dag, a, { type: 'exec.request', body: execRequestBody({ action: 'echo', resource, target }), time }))
  const other = ask('x', 'zone:a', 3000)
  const request = ask('y', 'zone:c', 4000)
  const failBody = { subject: c.publicKey, reason: 'test', detector: 'manual', evidence: null }
  const fail = add(nextEntry(dag, a, { type: 'trust.fail', body: failBody, time: 4500 }))
  const hopBody = { request: request.cid, hop: 1, from: 'a', zone: 'b', next: 'c' }
  const hop = add(nextEntry(dag, b, { type: 'exec.hop', body: hopBody, parents: [request.cid, fail.cid], time: 5000 }))
  const resultBody = { request: request.cid, ok: true, executor: 'echo', output: null, durationMs: 1 }
  const result = add(nextEntry(dag, c, { type: 'exec.result', body: resultBody, parents: [hop.cid], time: 6000 }))
  return { dag, request, hop, result, fail, other }
}

describe('console data', () => {
  it('policy history: the genesis policy, then each update with the document and digest it produced', () => {
    const { dag } = build()
    const versions = policyHistory(dag)
    expect(versions.map(v => v.cid === null)).toEqual([true, false])
    expect(versions[0]!.document.rules[0]!.principals).toEqual(['local'])
    expect(versions[1]!.document.rules[0]!.principals).toEqual(['*'])
    expect(versions[1]!.author).toBe(toHex(gov.publicKey))
    expect(versions[1]!.digest).not.toBe(versions[0]!.digest)
    const genesisPolicy = (dag.genesis.entry.body as { policy: Uint8Array }).policy
    expect(versions[0]!.digest).toBe(createPolicyState({ updates: [genesisPolicy] }).digest())
  })

  it('the graph of any entry of an execution: the whole execution, its trust changes, optional ancestry', async () => {
    const { dag, request, hop, result, fail, other } = build()
    const index = memoryIndex(dag)
    for (const from of [request, hop, result]) {
      const g = (await lineageGraph(dag, index, from.id))!
      expect(g.request).toBe(request.id)
      const execution = g.nodes.filter(n => n.role === 'execution')
      expect(execution.map(n => n.type)).toEqual(['exec.request', 'exec.hop', 'exec.result'])
      expect(execution.map(n => n.zone)).toEqual(['a', 'b', 'c'])
      expect(g.nodes.some(n => n.cid === other.id)).toBe(false)
    }
    const g = (await lineageGraph(dag, index, result.id))!
    expect(g.nodes.find(n => n.role === 'trust')?.cid).toBe(fail.id)
    const digests = policyHistory(dag).map(v => v.digest)
    expect(g.nodes.find(n => n.cid === result.id)!.policyDigest).toBe(digests[1])
    const wide = (await lineageGraph(dag, index, result.id, 100))!
    const past = wide.nodes.filter(n => n.role === 'ancestry')
    expect(past.map(n => n.type).sort()).toEqual(['exec.request', 'mesh.genesis', 'policy.update'])
    expect(past.every(n => n.policyDigest === null)).toBe(true)
    expect(await lineageGraph(dag, index, 'bafynothere')).toBeUndefined()
  })

  it('search filters by CID prefix, author, type and time range, newest first; children are found', async () => {
    const { dag, request, hop, result, fail, other } = build()
    const index = memoryIndex(dag)
    const all = async (q: Partial<LineageQuery>): Promise<string[]> =>
      (await searchLineage(dag, index, { limit: 100, ...q })).map(e => e.cid)
    expect(await all({ type: 'exec.request' })).toEqual([request.id, other.id])
    expect(await all({ since: 4000, until: 5000 })).toEqual([hop.id, fail.id, request.id])
    expect(await all({ author: toHex(c.publicKey) })).toEqual([result.id])
    expect(await all({ cid: result.id.slice(0, 30) })).toEqual([result.id])
    expect(await all({ type: 'exec.request', limit: 1 })).toEqual([request.id])
    expect(await childrenOf(dag, index, hop.id)).toEqual([result.id])
    expect(await childrenOf(dag, index, result.id)).toEqual([])
  })
})
