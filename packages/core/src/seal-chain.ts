import { equalBytes } from './bytes.js'
import { SealChainError } from './errors.js'
import type { EntrySeal } from './seal.js'

/**
 * Stage 2 of a sealed entry past index 0 (docs/PROTOCOL.md §24.5): its leaf leaves `prev`
 * out, so `prev` must be its batch-mate, the entry at the index before under the same root.
 */
export function checkSealChain (seal: EntrySeal, prevSeal: EntrySeal | undefined): void {
  if (
    prevSeal === undefined || prevSeal.index !== seal.index - 1 || prevSeal.count !== seal.count ||
    !equalBytes(prevSeal.root, seal.root)
  ) {
    throw new SealChainError(`prev is not the batch-mate at index ${seal.index - 1} of the same seal`)
  }
}
