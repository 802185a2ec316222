import { BODY_FIELD_DEPTH, MAX_INTEGER, MAX_NESTING_DEPTH } from './limits.js'
import { GovmeshError } from './errors.js'
import type { ExecRequestBody } from './exec.js'

/** Which encoding rule a value breaks. */
export type InputRule = 'depth' | 'integer-range' | 'number-form' | 'unicode' | 'key' | 'type' | 'size'

/**
 * A user-supplied value cannot become part of an entry that peers accept. Raised
 * before anything is signed; `field` is a path such as `payload.items[3]`.
 */
export class InputRejectedError extends GovmeshError {
  constructor (readonly field: string, readonly rule: InputRule, message: string) {
    super('input.rejected', `${field}: ${message}`)
    this.name = 'InputRejectedError'
  }
}

export interface EncodableInit {
  /** Name of the value, the start of every error path. */
  field: string
  /** Nesting depth the value will have inside its entry (default: a body field). */
  depth?: number
}

/**
 * Asserts that a JSON-like value encodes to canonical DAG-CBOR that the stage-1
 * decoder accepts and that decodes back to the same value: nesting within
 * {@link MAX_NESTING_DEPTH}, integers within ±{@link MAX_INTEGER} (larger integral
 * numbers would be written as floats, which the decoder refuses), finite numbers,
 * well-formed Unicode (a lone surrogate would be silently replaced), no `__proto__`
 * key, and only null, booleans, numbers, strings, arrays and plain objects.
 *
 * @example
 * ```ts
 * checkEncodable(JSON.parse(body).payload, { field: 'payload' })
 * ```
 */
export function checkEncodable (value: unknown, init: EncodableInit): void {
  walk(value, init.field, init.depth ?? BODY_FIELD_DEPTH)
}

function walk (v: unknown, path: string, depth: number): void {
  if (depth > MAX_NESTING_DEPTH) {
    throw new InputRejectedError(path, 'depth', `nested deeper than ${MAX_NESTING_DEPTH} levels in its entry`)
  }
  if (v === null || typeof v === 'boolean') return
  if (typeof v === 'number') return checkNumber(v, path)
  if (typeof v === 'string') return checkText(v, path, 'unicode')
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) walk(v[i], `${path}[${i}]`, depth + 1)
    return
  }
  if (typeof v === 'object' && isPlainObject(v)) {
    for (const key of Object.keys(v)) {
      if (key === '__proto__') throw new InputRejectedError(path, 'key', 'the map key "__proto__" is not allowed')
      checkText(key, `${path}: key ${JSON.stringify(key)}`, 'unicode')
      walk((v as Record<string, unknown>)[key], `${path}.${key}`, depth + 1)
    }
    return
  }
  throw new InputRejectedError(path, 'type', `a ${typeof v} cannot be recorded (JSON values only)`)
}

function checkNumber (n: number, path: string): void {
  if (!Number.isFinite(n)) throw new InputRejectedError(path, 'number-form', 'NaN and infinities cannot be recorded')
  if (Number.isInteger(n) && Math.abs(n) > MAX_INTEGER) {
    throw new InputRejectedError(path, 'integer-range', `integer ${String(n)} is outside ±(2^53 − 1)`)
  }
}

/** In Unicode mode a surrogate pair is one code point, so only unpaired halves match. */
const LONE_SURROGATE = /\p{Cs}/u

function checkText (s: string, path: string, rule: InputRule): void {
  if (LONE_SURROGATE.test(s)) throw new InputRejectedError(
    path, rule, 'text holds a lone UTF-16 surrogate (not valid Unicode)'
  )
}

function isPlainObject (v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

/**
 * Everything a user puts into an `exec.request`, checked before the origin signs it:
 * the payload and every text field must encode to what a peer's decoder accepts.
 *
 * @example
 * ```ts
 * checkExecRequestInput(execRequestBody({ action: 'echo', resource: 'r', target: 'zone:b', payload }))
 * ```
 */
export function checkExecRequestInput (body: ExecRequestBody): void {
  checkEncodable(body.payload, { field: 'payload' })
  for (const field of ['action', 'resource', 'target', 'nonce'] as const) checkEncodable(body[field], { field })
  body.route.forEach((r, i) => { checkEncodable(r, { field: `route[${i}]` }) })
}
