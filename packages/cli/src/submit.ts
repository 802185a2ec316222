import { CID, createEntry, toBase64, toHex, type EntryBody, type EntryType, type KeyPair, type SignedEntry } from '@govmesh/core'
import type { ApiClient } from './client.js'
import { CliError } from './output.js'
import type { IngestOutcome as Outcome, NextPositionResponse as Position } from '@govmesh/node'


/**
 * Signs an entry locally with a key the node never sees (a governor's) and submits
 * it through the node's API, where it is validated like any other entry.
 */
export async function signAndSubmit<T extends EntryType> (client: ApiClient, keys: KeyPair, type: T, body: EntryBody<T>, extraParents: string[] = []): Promise<SignedEntry<T>> {
  const q = new URLSearchParams({ author: toHex(keys.publicKey) })
  if (extraParents.length > 0) q.set('parents', extraParents.join(','))
  const pos = await client.get<Position>(`/v1/dag/next?${q.toString()}`)
  const signed = createEntry({
    mesh: CID.parse(pos.mesh),
    seq: pos.seq,
    prev: pos.prev === null ? null : CID.parse(pos.prev),
    parents: pos.parents.map(p => CID.parse(p)),
    type,
    body,
    time: Date.now()
  }, keys)
  const res = await client.post<{ results: Outcome[] }>('/v1/entries', { entry: toBase64(signed.bytes) }, { okStatuses: [422] })
  const outcome = res.body.results[0]
  if (outcome?.status === 'rejected') throw new CliError(`the node rejected the ${type} entry: ${outcome.reason ?? ''}: ${outcome.message ?? ''}`)
  return signed
}
