import type { Command } from 'commander'
import { approveRestore, restoreQuorum, CID, fromHex, parsePublicKey, sortCids, toHex } from '@govmesh/core'
import { ApiClient, clientOptions, wideOutput, type ClientOptions } from '../client.js'
import { memberNames, peerLabel } from '../names.js'
import { ago } from '../time.js'
import { readKeyFile } from '../keyfile.js'
import { CliError, emit, EXIT, table } from '../output.js'
import { signAndSubmit } from '../submit.js'
import type { RestoreApprovalWire as Approval, TrustResponse } from '@govmesh/node'
import { journalPath } from '../journal.js'


function parseKey (text: string): Uint8Array {
  try {
    return parsePublicKey(text)
  } catch (err) {
    throw new CliError(`${text}: ${(err as Error).message}`, EXIT.usage)
  }
}

export function registerTrust (program: Command): void {
  const trust = program.command('trust').description('report, restore and inspect peer trust')

  clientOptions(trust.command('status').description('each peer: status, since, reasons, entry CIDs'))
    .action(async (opts: ClientOptions) => {
      const client = new ApiClient(opts)
      const t = await client.get<TrustResponse>('/v1/trust')
      if (opts.json === true) { emit(true, t, () => ''); return }
      const names = await memberNames(client)
      const wide = wideOutput(opts)
      // Several reporters usually give the same reason: say it once, with how many gave it.
      const reason = (p: { reasons: string[] }): string => {
        const unique = [...new Set(p.reasons)]
        const count = p.reasons.length > unique.length ? ` (${p.reasons.length} reports)` : ''
        return unique.length === 0 ? '-' : unique.join('; ') + count
      }
      const header = ['PEER', 'ZONE', 'STATUS', 'SINCE', 'REASON', ...(wide ? ['ENTRIES'] : [])]
      const rows = t.peers.map(p => [
        peerLabel(p.peerId, names, wide), p.zone ?? '-', p.status, p.since === null ? '-' : ago(p.since),
        reason(p), ...(wide ? [p.entries.join(',') || '-'] : [])
      ])
      emit(false, t, () => [
        `this node: ${peerLabel(t.self.peerId, names, wide)} ${t.self.status}`,
        table(header, rows, { wide, shrink: [0, 4] })
      ].join('\n'))
    })

  clientOptions(trust.command('report').description('record a trust.fail about a peer (any member node)')
    .argument('<peerid>', 'PeerId of the peer to report')
    .requiredOption('--reason <text>', 'why'))
    .action(async (peer: string, opts: ClientOptions & { reason: string }) => {
      parseKey(peer)
      const r = await new ApiClient(opts).post<{ cid: string }>('/v1/trust/report', { peer, reason: opts.reason })
      emit(opts.json === true, r.body, () => `trust.fail ${r.body.cid}: ${peer} reported (${opts.reason})`)
    })

  clientOptions(trust.command('restore').description(
    'approve lifting a quarantine as a governor; submits trust.restore once the restore quorum of approvals is ' +
      'collected'
  )
    .argument('<peerid>', 'PeerId of the quarantined peer')
    .requiredOption('--governor <keyfile>', 'governor key file')
    .option('--clears <cids...>', 'the exact trust.fail entries to clear (default: every open failure about the peer)'))
    .action(async (peer: string, opts: ClientOptions & { governor: string, clears?: string[] }) => {
      const subject = parseKey(peer)
      const subjectHex = toHex(subject)
      const keys = readKeyFile(opts.governor)
      const client = new ApiClient(opts)
      const t = await client.get<TrustResponse>('/v1/trust')
      const clears = (
        opts.clears ?? t.failures.filter(f => f.subject === subjectHex && !f.cleared).map(f => f.id)
      ).sort()
      if (clears.length === 0) throw new CliError(`no open trust failure about ${peer}`)
      const { meshId } = await client.get<{ meshId: string }>('/v1/status')
      const statement = { mesh: CID.parse(meshId), subject, clears: clears.map(c => CID.parse(c)) }
      const mine = approveRestore(statement, keys)
      const { approvals } = await client.get<{ approvals: Approval[] }>(`/v1/trust/approvals?subject=${subjectHex}`)
      const same = approvals.filter(
        a => JSON.stringify(a.clears) === JSON.stringify(clears) && a.governor !== toHex(keys.publicKey)
      )
      const all = [...same.map(a => ({ governor: fromHex(a.governor), sig: fromHex(a.sig) })), mine]
      if (restoreQuorum(all, t.quorums.restore).reached) {
        // Entry fields hold CIDs in binary order (the canonical order), not string order.
        const entry = await signAndSubmit(client, keys, 'trust.restore', {
          subject, clears: sortCids(statement.clears), approvals: all
        },
          { extraParents: clears, journal: journalPath(opts.governor) })
        emit(opts.json === true, {
          restored: true, cid: entry.id, approvals: all.length, quorum: t.quorums.restore, clears
        }, () =>
          `trust.restore ${entry.id}: ${peer} restored with ${all.length}/${t.quorums.restore} governor approvals`)
        return
      }
      const r = await client.post<{ approvals: number, quorum: number }>(
        '/v1/trust/approvals', { subject: subjectHex, clears, governor: toHex(keys.publicKey), sig: toHex(mine.sig) }
      )
      emit(opts.json === true, { restored: false, approvals: r.body.approvals, quorum: r.body.quorum, clears }, () =>
        `approval recorded (${r.body.approvals}/${r.body.quorum}); ${peer} stays quarantined until the restore ` +
          `quorum approves`)
    })
}
