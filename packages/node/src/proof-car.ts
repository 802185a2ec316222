import { CarBufferWriter, CarReader } from '@ipld/car'
import { CID, type Dag } from '@govmesh/core'

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
