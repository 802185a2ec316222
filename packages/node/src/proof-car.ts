import { CarBufferWriter, CarReader } from '@ipld/car'
import { CID, encodeCanonical, writeEntryCidBytes, type Dag } from '@govmesh/core'

/**
 * Writes the CAR of a lineage proof: the entry (the CAR root), its whole ancestry
 * closure, and the genesis, oldest first, from a DAG whose history is at hand (in memory).
 *
 * @example
 * ```ts
 * writeFileSync('proof.car', exportProofCar(dag, resultCid))
 * ```
 */
export function exportProofCar (dag: Dag, rootId: string): Uint8Array {
  const ids = dag.ancestry(rootId)
  if (ids.length === 0) throw new Error(`unknown entry ${rootId}`)
  if (!ids.includes(dag.meshIdString)) ids.push(dag.meshIdString)
  const metas = ids.map(id => dag.meta(id)!).sort((a, b) => a.index - b.index)
  return writeProofCar(CID.parse(rootId), metas.map(m => ({ cid: m.cid, bytes: dag.getBytes(m.id)! })))
}

/**
 * A proof CAR of the given blocks, in their order, written once into a buffer of its exact size.
 *
 * @example
 * ```ts
 * const car = writeProofCar(rootCid, await proofBlocks(node.dag, node.historyIndex, rootId))
 * ```
 */
export function writeProofCar (root: CID, blocks: ReadonlyArray<{ cid: CID, bytes: Uint8Array }>): Uint8Array {
  let size = CarBufferWriter.headerLength({ roots: [root] })
  for (const b of blocks) size += CarBufferWriter.blockLength(b)
  const buffer = new Uint8Array(size)
  const writer = CarBufferWriter.createWriter(buffer.buffer, { roots: [root] })
  for (const b of blocks) writer.write(b)
  return writer.close()
}

/**
 * The same CAR as {@link writeProofCar}, of blocks named by their CIDs' strings: each entry CID's
 * bytes are decoded from its string straight into the CAR, so a proof of thousands of entries
 * builds no CID object per block (each would be garbage a moment later).
 *
 * @example
 * ```ts
 * const car = writeProofCarOfIds(rootCid, [{ id: genesis.id, bytes: genesis.bytes }])
 * ```
 */
export function writeProofCarOfIds (
  root: CID, blocks: ReadonlyArray<{ id: string, bytes: Uint8Array }>
): Uint8Array {
  const header = encodeCanonical({ roots: [root], version: 1 })
  let size = varintLength(header.length) + header.length
  for (const b of blocks) {
    const cidLength = b.id.length === ENTRY_CID_CHARS ? ENTRY_CID_BYTES : CID.parse(b.id).bytes.length
    size += varintLength(cidLength + b.bytes.length) + cidLength + b.bytes.length
  }
  const out = new Uint8Array(size)
  let at = writeVarint(out, 0, header.length)
  out.set(header, at)
  at += header.length
  for (const b of blocks) {
    const entryCid = b.id.length === ENTRY_CID_CHARS
    const other = entryCid ? undefined : CID.parse(b.id).bytes
    const cidLength = other?.length ?? ENTRY_CID_BYTES
    at = writeVarint(out, at, cidLength + b.bytes.length)
    if (other !== undefined) out.set(other, at)
    else if (!writeEntryCidBytes(b.id, out, at)) out.set(CID.parse(b.id).bytes, at)
    at += cidLength
    out.set(b.bytes, at)
    at += b.bytes.length
  }
  if (at !== size) throw new Error('proof CAR: a block CID is not the length its string promised')
  return out
}

/** An entry CID: 36 bytes, 59 characters as a base32 string. */
const ENTRY_CID_BYTES = 36
const ENTRY_CID_CHARS = 59

function varintLength (n: number): number {
  let length = 1
  while (n >= 0x80) { n = Math.floor(n / 0x80); length++ }
  return length
}

/** Unsigned LEB128, the CAR's length prefix; returns the offset after it. */
function writeVarint (out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 0x80)
  }
  out[at++] = n
  return at
}

/** Reads a proof CAR: its single root and every block as stored. */
export async function readProofCar (bytes: Uint8Array): Promise<{
  root: CID, blocks: Array<{ cid: CID, bytes: Uint8Array }>
}> {
  const reader = await CarReader.fromBytes(bytes)
  const roots = await reader.getRoots()
  if (roots.length !== 1) throw new Error(`a proof CAR has exactly one root, this one has ${roots.length}`)
  const blocks: Array<{ cid: CID, bytes: Uint8Array }> = []
  for await (const b of reader.blocks()) blocks.push(
    { cid: CID.asCID(b.cid) ?? CID.decode(b.cid.bytes), bytes: b.bytes }
  )
  return { root: CID.decode(roots[0]!.bytes), blocks }
}
