import {
  CID, createEntry, toBase64, toHex, type EntryBody, type EntryType, type KeyPair, type SignedEntry
} from '@govmesh/core'
import type { ApiClient } from './client.js'
import { checkAgainstJournal, recordSigned } from './journal.js'
import { CliError } from './output.js'
import type { IngestOutcome as Outcome, NextPositionResponse as Position } from '@govmesh/node'

/** How long a stale view may take to catch up before signing is refused (GOVMESH_JOURNAL_WAIT_MS). */
const JOURNAL_WAIT_MS = Number(process.env.GOVMESH_JOURNAL_WAIT_MS ?? 5000)


export interface SubmitOptions {
  /** CIDs the entry must also name as parents. */
  extraParents?: string[]
  /**
   * The key's journal (see `journal.ts`): signing is refused from a node that lacks the key's
   * latest entry, and the signed entry is recorded there once the node holds it.
   */
  journal?: string
}

/**
 * Signs an entry locally with a key the node never sees (a governor's) and submits
 * it through the node's API, where it is validated like any other entry.
 */
export async function signAndSubmit<T extends EntryType> (
  client: ApiClient, keys: KeyPair, type: T, body: EntryBody<T>, opts: SubmitOptions = {}
): Promise<SignedEntry<T>> {
  const author = toHex(keys.publicKey)
  const q = new URLSearchParams({ author })
  const extra = opts.extraParents ?? []
  if (extra.length > 0) q.set('parents', extra.join(','))
  const position = async (): Promise<Position> => await client.get<Position>(`/v1/dag/next?${q.toString()}`)
  let pos = await position()
  if (opts.journal !== undefined) {
    const journal = opts.journal
    const known = async (id: string): Promise<boolean> =>
      (await client.get<{ cid?: string } | undefined>(`/v1/dag/entries/${id}`).catch(() => undefined)) !== undefined
    // A node a moment behind (the last entry still on its way) catches up by itself: wait a little before refusing.
    const deadline = Date.now() + JOURNAL_WAIT_MS
    for (;;) {
      try {
        await checkAgainstJournal(journal, pos, known)
        break
      } catch (err) {
        if (!(err instanceof CliError) || err.code !== 'cli.stale-view' || Date.now() > deadline) throw err
        await new Promise(resolve => setTimeout(resolve, 250))
        pos = await position()
      }
    }
  }
  const signed = createEntry({
    mesh: CID.parse(pos.mesh),
    seq: pos.seq,
    prev: pos.prev === null ? null : CID.parse(pos.prev),
    parents: pos.parents.map(p => CID.parse(p)),
    type,
    body,
    time: Date.now()
  }, keys)
  const res = await client.post<{ results: Outcome[] }>(
    '/v1/entries', { entry: toBase64(signed.bytes) }, { okStatuses: [422] }
  )
  const outcome = res.body.results[0]
  if (outcome?.status === 'rejected') throw new CliError(
    `the node rejected the ${type} entry: ${outcome.reason ?? ''}: ${outcome.message ?? ''}`
  )
  if (opts.journal !== undefined) recordSigned(opts.journal, author, pos.mesh, pos.seq, signed.id)
  return signed
}
