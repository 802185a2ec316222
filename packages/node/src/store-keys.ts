/** Key names of the level store (docs/STORAGE.md), shared by the store and its migrations. */

/** A seq or position as 12 hex digits: keys sort in numeric order. */
export const pad = (n: number): string => n.toString(16).padStart(12, '0')

/** The author/seq index: `a!<author hex>!<seq>` → CID. */
export const authorKey = (author: string, seq: number): string => `a!${author}!${pad(seq)}`

/** The chain record of the author's entry at `seq` (chain-record.ts, schema 4). */
export const chainKey = (author: string, seq: number): string => `h!${author}!${pad(seq)}`

/** The chain pack of the author's seqs 16·block + 1 … 16·block + 16 (chain-pack.ts, schema 5). */
export const packKey = (author: string, block: number): string => `g!${author}!${pad(block)}`

/** Entry bytes by CID: before schema 4 every entry's, since then only an entry off its author's chain. */
export const entryKey = (id: string): string => `e!${id}`

/** The metadata record by CID (meta-record.ts). */
export const metaKey = (id: string): string => `x!${id}`
