import { randomBytes, randomInt } from 'node:crypto'

/** A request nonce from the CSPRNG: 16 random bytes as hex. Nonces must not be guessable or repeat. */
export function newNonce (): string {
  return randomBytes(16).toString('hex')
}

/** A uniformly chosen element (CSPRNG), or undefined for an empty list. */
export function pickRandom<T> (items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[randomInt(items.length)]
}
