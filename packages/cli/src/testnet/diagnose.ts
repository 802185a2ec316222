import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { alive, type TestnetNode } from './state.js'

/** What a node looks like to the others, with the reasons they give. */
export interface PeerView { status: string, reasons: string[] }

/** One node that is not trusted by every peer: what is wrong and the commands that fix it. */
export interface Untrusted {
  name: string
  peerId: string
  status: string
  reasons: string[]
  fix: string[]
}

/** Marks a node restarted by `testnet tamper`, so diagnoses can name the cause and `--undo`. */
export const TAMPERED_MARKER = 'tampered'

export function isTampered (node: TestnetNode): boolean {
  return existsSync(join(node.dir, TAMPERED_MARKER))
}

/**
 * Explains why a node is not trusted, from the views its peers hold of it, and what to run.
 * `dir` is the testnet directory, for the commands it suggests.
 */
export function diagnose (dir: string, node: TestnetNode, status: string, views: PeerView[]): Untrusted {
  const reasons = [...new Set(views.flatMap(v => v.reasons))]
  const restore = `govmesh trust restore ${node.peerId} --governor ${join(dir, 'governor.key')} --data-dir ` +
    `${join(dir, 'node1')}`
  const log = join(node.dir, 'node.log')
  const fix: string[] = []
  if (!alive(node.pid)) {
    fix.push(`read ${log}, then: govmesh testnet up --dir ${dir} --detach`)
  } else if (isTampered(node)) {
    reasons.unshift(
      'runs a tampered measurement (govmesh testnet tamper); peers report it again until it runs allowed code'
    )
    fix.push(`govmesh testnet tamper --undo --dir ${dir} ${node.name}`)
    if (status.includes('quarantined')) fix.push(restore)
  } else if (status.includes('quarantined')) {
    fix.push(restore)
  } else {
    fix.push(`read ${log}`)
  }
  return { name: node.name, peerId: node.peerId, status, reasons, fix }
}

/** The diagnosis as lines for a terminal. */
export function renderDiagnosis (items: Untrusted[]): string[] {
  return items.flatMap(u => [
    `  ${u.name} (${u.peerId.slice(-8)}): ${u.status}${u.reasons.length > 0 ? ` — ${u.reasons.join('; ')}` : ''}`,
    ...u.fix.map(f => `    fix: ${f}`)
  ])
}
