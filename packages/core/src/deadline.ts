import type { Refusal } from './decide.js'
import { DEFAULT_EXEC_TIMEOUT_MS, HOP_RESERVE_MS, MAX_EXEC_TIMEOUT_MS } from './limits.js'

/**
 * Each node on a path holds a deadline by which it must have answered the node before it.
 * The origin's is the caller's; each forward hands the next node what is left minus
 * {@link HOP_RESERVE_MS}, so deadlines shrink along the path and a late answer still leaves
 * every node upstream the time to record a `timeout` refusal and answer before its own.
 */

/**
 * The local deadline for a time budget received now: the caller's `timeoutMs` at the origin, a
 * frame's `remainingMs` at a receiver. Absent: the default; never beyond the maximum.
 *
 * @example
 * ```ts
 * const deadline = deadlineFrom(Date.now(), frame.remainingMs)
 * ```
 */
export function deadlineFrom (now: number, budgetMs: number | undefined): number {
  const ms = budgetMs ?? DEFAULT_EXEC_TIMEOUT_MS
  return now + Math.max(0, Math.min(ms, MAX_EXEC_TIMEOUT_MS))
}

/** What a forwarder gives the next node, and how long it waits for the answer. */
export interface ForwardBudget {
  /** The next node's budget, carried in the frame. */
  remainingMs: number
  /** How long to wait for the next node's answer before refusing with `timeout`. */
  waitMs: number
}

/**
 * The budget to forward with, or a `timeout` refusal when what is left could not carry a
 * request to the next node and its answer back (the next node needs at least its own reserve).
 *
 * @example
 * ```ts
 * const budget = forwardBudget(deadline, Date.now())
 * if ('reason' in budget) return refuse(budget)
 * ```
 */
export function forwardBudget (deadline: number, now: number): ForwardBudget | Refusal {
  const left = deadline - now
  const remainingMs = left - HOP_RESERVE_MS
  if (remainingMs < HOP_RESERVE_MS) {
    const detail = `${Math.max(0, left)} ms left of the deadline; forwarding needs ${2 * HOP_RESERVE_MS} ms`
    return { reason: 'timeout', detail }
  }
  return { remainingMs, waitMs: left - HOP_RESERVE_MS / 2 }
}

/**
 * How long the executor may run: up to the deadline less the time to record the outcome, or a
 * `timeout` refusal when nothing is left.
 *
 * @example
 * ```ts
 * const ms = executionBudget(deadline, Date.now())
 * ```
 */
export function executionBudget (deadline: number, now: number): number | Refusal {
  const ms = deadline - now - HOP_RESERVE_MS / 2
  if (ms > 0) return ms
  return { reason: 'timeout', detail: `${Math.max(0, deadline - now)} ms left of the deadline; too little to execute` }
}
