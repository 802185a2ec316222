/**
 * Encoding limits of protocol version 1, defined once: the canonical decoder
 * (cbor.ts), the entry codec (entry.ts) and the input check that runs before a
 * node signs anything (input-check.ts) all read them from here, so what a node
 * accepts from a user is exactly what its peers accept from it.
 */

/** Deepest nesting of arrays and maps; the top-level entry map is at depth 0. */
export const MAX_NESTING_DEPTH = 64
/** Depth of a body field's value inside an entry (entry map 0, body map 1, field value 2). */
export const BODY_FIELD_DEPTH = 2
/** Largest integer magnitude an entry may hold: integers are exact JavaScript numbers. */
export const MAX_INTEGER = Number.MAX_SAFE_INTEGER
/** Largest encoded entry any node accepts (bytes of the whole signed dag-cbor map). */
export const MAX_ENTRY_BYTES = 256 * 1024
/** Most causal parents one entry may name. */
export const MAX_PARENTS = 64
