import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { NodeRefillingError } from './errors.js'

/**
 * Left in the data dir by `govmesh store rebuild`: the node's own highest seq in the damaged
 * store. Until sync has brought its own chain back to that seq, the node authors nothing, so
 * a rebuilt node never signs a second entry at a seq it already used (equivocation).
 */
export interface RefillMarker {
  author: string
  seq: number
  damagedStore: string
}

const FILE = 'refill.json'

export function writeRefillMarker (dataDir: string, marker: RefillMarker): void {
  writeFileSync(join(dataDir, FILE), JSON.stringify(marker, null, 2) + '\n')
}

export function readRefillMarker (dataDir: string): RefillMarker | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dataDir, FILE), 'utf8')) as RefillMarker
    return typeof m.seq === 'number' && typeof m.author === 'string' ? m : undefined
  } catch {
    return undefined
  }
}

export function clearRefillMarker (dataDir: string): void {
  rmSync(join(dataDir, FILE), { force: true })
}

export { NodeRefillingError }
