/**
 * The Merkle tree of RFC 6962 §2.1 over leaf hashes (docs/PROTOCOL.md §24.2): interior
 * nodes are SHA-256(0x01 || left || right), a tree of n > 1 leaves splits at the largest
 * power of two below n. Pure; the hash function is passed in so both crypto providers agree.
 */

type Sha256 = (data: Uint8Array) => Uint8Array

const INTERIOR_PREFIX = 0x01

/** Largest power of two strictly below `n` (n ≥ 2). */
function split (n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** SHA-256(0x01 || left || right). */
export function interiorHash (left: Uint8Array, right: Uint8Array, sha256: Sha256): Uint8Array {
  const buf = new Uint8Array(1 + left.length + right.length)
  buf[0] = INTERIOR_PREFIX
  buf.set(left, 1)
  buf.set(right, 1 + left.length)
  return sha256(buf)
}

/**
 * The tree hash of `leaves` (at least one).
 *
 * @example
 * ```ts
 * const root = merkleRoot([leafA, leafB, leafC], nobleCrypto.sha256)
 * ```
 */
export function merkleRoot (leaves: readonly Uint8Array[], sha256: Sha256): Uint8Array {
  if (leaves.length === 0) throw new RangeError('a Merkle tree needs at least one leaf')
  if (leaves.length === 1) return leaves[0]!
  const k = split(leaves.length)
  return interiorHash(merkleRoot(leaves.slice(0, k), sha256), merkleRoot(leaves.slice(k), sha256), sha256)
}

/**
 * The audit path of the leaf at `index`: sibling subtree hashes, the one nearest the leaf first.
 *
 * @example
 * ```ts
 * const path = merklePath(leaves, 2, nobleCrypto.sha256)
 * foldPath(leaves[2], 2, leaves.length, path, nobleCrypto.sha256) // equals merkleRoot(leaves)
 * ```
 */
export function merklePath (leaves: readonly Uint8Array[], index: number, sha256: Sha256): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) throw new RangeError('index out of range')
  if (leaves.length === 1) return []
  const k = split(leaves.length)
  return index < k
    ? [...merklePath(leaves.slice(0, k), index, sha256), merkleRoot(leaves.slice(k), sha256)]
    : [...merklePath(leaves.slice(k), index - k, sha256), merkleRoot(leaves.slice(0, k), sha256)]
}

/**
 * The root and every leaf's audit path at once, each interior hash computed once (what
 * {@link merkleRoot} and {@link merklePath} give, in O(n log n) instead of O(n²)).
 *
 * @example
 * ```ts
 * const { root, paths } = merkleTree(leaves, nobleCrypto.sha256)
 * ```
 */
export function merkleTree (
  leaves: readonly Uint8Array[], sha256: Sha256
): { root: Uint8Array, paths: Uint8Array[][] } {
  if (leaves.length === 0) throw new RangeError('a Merkle tree needs at least one leaf')
  if (leaves.length === 1) return { root: leaves[0]!, paths: [[]] }
  const k = split(leaves.length)
  const left = merkleTree(leaves.slice(0, k), sha256)
  const right = merkleTree(leaves.slice(k), sha256)
  for (const p of left.paths) p.push(right.root)
  for (const p of right.paths) p.push(left.root)
  return { root: interiorHash(left.root, right.root, sha256), paths: [...left.paths, ...right.paths] }
}

/** Number of hashes in the audit path of leaf `index` of `count` (the tree's shape fixes it). */
export function pathLength (index: number, count: number): number {
  let n = count
  let m = index
  let length = 0
  while (n > 1) {
    const k = split(n)
    if (m < k) n = k
    else { m -= k; n -= k }
    length++
  }
  return length
}

/**
 * The root that `leaf` at `index` of `count` and its audit path hash to, or undefined when the
 * path does not have the length the shape requires (so no path is ever read past its end).
 */
export function foldPath (
  leaf: Uint8Array, index: number, count: number, path: readonly Uint8Array[], sha256: Sha256
): Uint8Array | undefined {
  if (!Number.isInteger(index) || !Number.isInteger(count) || index < 0 || index >= count) return undefined
  if (path.length !== pathLength(index, count)) return undefined
  // Descend to find, for every level, which side the leaf is on; then hash back up.
  const sides: boolean[] = []
  let n = count
  let m = index
  while (n > 1) {
    const k = split(n)
    const left = m < k
    sides.push(left)
    if (left) n = k
    else { m -= k; n -= k }
  }
  let hash = leaf
  for (let i = 0; i < path.length; i++) {
    const sibling = path[i]!
    const leftSide = sides[sides.length - 1 - i]!
    hash = leftSide ? interiorHash(hash, sibling, sha256) : interiorHash(sibling, hash, sha256)
  }
  return hash
}
