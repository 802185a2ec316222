import {
  BoundedMap, entryDepIds, MAX_EXEC_FRAME_BYTES, MAX_FRAME_CONTEXT, MAX_FRAME_CONTEXT_BYTES, toHex, type SignedEntry
} from '@govmesh/core'

/** Entries handed to this node by exec streams that it remembers as possibly not yet gossiped. */
const DIRECT_CAPACITY = 1024
/**
 * How long an entry received by an exec stream may still be missing at other nodes: its author
 * gossips it within its coalescing window (20 ms, PROTOCOL.md §18.2), and gossip delivers it within
 * tens of milliseconds even on a loaded mesh. Older entries are left to gossip and, failing that,
 * the receiver's pull. Longer would resend a busy peer's whole recent chain in every frame.
 */
export const DIRECT_WINDOW_MS = 250
/** Bytes per entry that the frame's CBOR adds around it (the byte string header), kept in the budget. */
const ITEM_OVERHEAD = 8
/** The rest of an exec frame's map besides lineage and context. */
const FRAME_OVERHEAD = 4096

interface Remembered { entry: SignedEntry, author: string, at: number }

/**
 * What a forwarder puts in an exec frame's `context` (PROTOCOL.md §21.2): the ancestors of the
 * lineage that the next node may lack because gossip has not brought them yet. Those are this node's
 * own records still waiting to be gossiped, and entries other nodes handed it directly (exec
 * responses, frames) within the last second, which their authors may still be holding back. An
 * entry outside both is assumed delivered; if it is not, the receiver pulls (§21.5, step 4).
 */
export class ExecContext {
  private readonly direct = new BoundedMap<string, Remembered>(DIRECT_CAPACITY)

  /**
   * @param unpublished - this node's record by id while it waits to be gossiped (the gossip service)
   */
  constructor (private readonly unpublished: (id: string) => SignedEntry | undefined = () => undefined) {}

  /** Remembers entries an exec stream handed this node (accepted by the DAG already). */
  remember (entries: readonly SignedEntry[], now = Date.now()): void {
    for (const entry of entries) this.direct.set(entry.id, { entry, author: toHex(entry.entry.author), at: now })
  }

  /**
   * The context for a frame carrying `lineage` to `receiver` (hex key): the lineage's ancestors among
   * the entries above, each after its own ancestors, within {@link MAX_FRAME_CONTEXT} entries and the
   * frame's byte limit. The receiver's own entries (and so their ancestors) it holds already. Whatever
   * does not fit is left for the receiver to pull.
   */
  forLineage (lineage: readonly SignedEntry[], receiver?: string, now = Date.now()): Uint8Array[] {
    const lineageBytes = lineage.reduce((n, e) => n + e.bytes.length + ITEM_OVERHEAD, 0)
    let room = Math.min(MAX_FRAME_CONTEXT_BYTES, MAX_EXEC_FRAME_BYTES - FRAME_OVERHEAD - lineageBytes)
    const inLineage = new Set(lineage.map(e => e.id))
    const seen = new Set<string>()
    const out: Uint8Array[] = []
    // Depth-first, emitting an entry after its dependencies, so the receiver's DAG takes them in order.
    const stack: Array<{ entry: SignedEntry, deps: string[] }> = []
    const visit = (id: string): void => {
      if (seen.has(id) || inLineage.has(id)) return
      seen.add(id)
      const entry = this.lookup(id, receiver, now)
      if (entry !== undefined) stack.push({ entry, deps: entryDepIds(entry) })
    }
    for (const e of lineage) {
      for (const dep of entryDepIds(e)) {
        visit(dep)
        while (stack.length > 0) {
          const top = stack.at(-1)!
          const next = top.deps.pop()
          if (next !== undefined) { visit(next); continue }
          stack.pop()
          if (out.length >= MAX_FRAME_CONTEXT || top.entry.bytes.length + ITEM_OVERHEAD > room) continue
          out.push(top.entry.bytes)
          room -= top.entry.bytes.length + ITEM_OVERHEAD
        }
      }
    }
    return out
  }

  private lookup (id: string, receiver: string | undefined, now: number): SignedEntry | undefined {
    const own = this.unpublished(id)
    if (own !== undefined) return own
    const r = this.direct.get(id)
    if (r === undefined) return undefined
    if (now - r.at > DIRECT_WINDOW_MS) { this.direct.delete(id); return undefined }
    return r.author === receiver ? undefined : r.entry
  }
}
