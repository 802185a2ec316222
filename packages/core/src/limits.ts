/**
 * Limits and defaults of protocol version 1, defined once. The encoding limits: the canonical
 * decoder (cbor.ts), the entry codec (entry.ts) and the input check that runs before a node
 * signs anything (input-check.ts) all read them from here, so what a node accepts from a user
 * is exactly what its peers accept from it. The execution limits: the entry rules, the wire
 * frames, the daemon and the CLI read them from here so they cannot disagree.
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

// Execution protocol

/** Most explicit PeerIds an `exec.request` `route` may carry. */
export const MAX_ROUTE = 16
/** Most PeerIds of a planned path after the origin: the explicit route and the target. */
export const MAX_PATH = MAX_ROUTE + 1
/** Entries of a request's ancestry, from its `parent`, whose revocation and authors every hop checks. */
export const MAX_ANCESTRY_CHECK = 256
/** Most entries a forwarded exec frame carries: the request, then every earlier receiver's `exec.hop`. */
export const MAX_FRAME_LINEAGE = 64
/** Largest exec frame, request or response. */
export const MAX_EXEC_FRAME_BYTES = 4 * 1024 * 1024
/** Most entries of an exec frame's `context`: the records its lineage depends on that gossip may not have delivered. */
export const MAX_FRAME_CONTEXT = 64
/** Most bytes of those entries a forwarder sends (what does not fit, the receiver pulls). */
export const MAX_FRAME_CONTEXT_BYTES = 1024 * 1024
/** Highest path position an exec frame may name. */
export const MAX_FRAME_HOP = 64
/** An execution's deadline when the caller names none: from the origin's API call to its answer. */
export const DEFAULT_EXEC_TIMEOUT_MS = 15_000
/** The longest deadline a caller may ask for, or a forwarded frame may carry (the CLI waits 60 s). */
export const MAX_EXEC_TIMEOUT_MS = 50_000
/**
 * Time a node keeps back from its own deadline when it forwards: half of it covers the transit of
 * the answer, half recording a refusal and answering if the next node does not answer in time.
 */
export const HOP_RESERVE_MS = 200
/** Dialing the next node of a path, and opening the stream to it, each give up after this (or the deadline). */
export const EXEC_DIAL_TIMEOUT_MS = 5000
/** A receiver waits this long for the request frame of an exec stream. */
export const EXEC_REQUEST_READ_TIMEOUT_MS = 15_000

/** A zone name: lower case letters, digits, `.`, `_`, `-`; at most 64 characters. */
export const ZONE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/
