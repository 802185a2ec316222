import type { Command } from 'commander'
import {
  createPolicyState, fromBase64, parsePublicKey, policyDigest, removalCut, policyUpdateFor, ZONE_PATTERN
} from '@govmesh/core'
import { ApiClient, clientOptions, type ClientOptions } from '../client.js'
import { readKeyFile } from '../keyfile.js'
import { CliError, emit, EXIT } from '../output.js'
import { signAndSubmit } from '../submit.js'
import {
  approveQuorumEntry, policyQuorum, pooledProposals, quorumText, type GovernanceView
} from '../governance-quorum.js'
import { journalPath } from '../journal.js'
import { readPolicyFile } from './genesis.js'
import type { PolicyResponse } from '@govmesh/node'
import { registerPolicyDryRun } from './policy-dryrun.js'


export function registerGovernance (program: Command): void {
  const policy = program.command('policy').description('show or change the replicated policy')
  clientOptions(policy.command('show').description('print the node\'s materialized policy and its digest'))
    .action(async (opts: ClientOptions) => {
      const p = await new ApiClient(opts).get<PolicyResponse>('/v1/policy')
      emit(opts.json === true, { digest: p.digest, hasPolicy: p.hasPolicy, document: p.document }, () =>
        `digest: ${p.digest}${p.hasPolicy ? '' : ' (no policy yet)'}\n${JSON.stringify(p.document, null, 2)}`)
    })
  clientOptions(policy.command('apply')
    .description('approve, as a governor, a policy.update turning the policy into FILE (signed locally); the ' +
      'approval ' +
      'that completes the policy quorum submits it')
    .argument('<file>', 'policy JSON file')
    .requiredOption('--governor <keyfile>', 'governor key file'))
    .action(async (file: string, opts: ClientOptions & { governor: string }) => {
      const doc = readPolicyFile(file)
      const keys = readKeyFile(opts.governor)
      const client = new ApiClient(opts)
      const current = await client.get<PolicyResponse>('/v1/policy')
      const gov = await client.get<GovernanceView>('/v1/governance')
      const state = fromBase64(current.state)
      // Another governor proposed this policy already: approve its exact bytes (a Yjs update is never recomputed
      // alike).
      const wanted = policyDigest(doc)
      const pooled = (await pooledProposals(client, 'policy.update')).find(p => {
        const update = (p.proposal.body as { update: Uint8Array }).update
        return createPolicyState({ updates: [state, update] }).digest() === wanted
      })
      const update = (
        pooled?.proposal.body as { update: Uint8Array } | undefined
      )?.update ?? policyUpdateFor(state, doc)
      if (update === null) {
        emit(opts.json === true, {
          applied: false, approvals: 0, quorum: policyQuorum(gov), changed: false, digest: current.digest
        },
          () => `policy already matches ${file} (digest ${current.digest})`)
        return
      }
      const outcome = await approveQuorumEntry(client, keys, gov, { type: 'policy.update', body: { update } },
        { journal: journalPath(opts.governor) })
      const after = await client.get<PolicyResponse>('/v1/policy')
      emit(opts.json === true, { ...outcome, changed: outcome.applied, digest: after.digest }, () =>
        `${quorumText('policy.update', outcome)}\ndigest: ${after.digest}`)
    })
  registerPolicyDryRun(policy)

  const member = program.command('member').description('admit or remove mesh members (governor key required)')
  clientOptions(member.command('admit').description('sign a member.admit with a governor key and submit it')
    .argument('<peerid>', 'PeerId (or hex public key) of the node to admit')
    .requiredOption('--zone <zone>', 'zone of the new member')
    .requiredOption('--governor <keyfile>', 'governor key file'))
    .action(async (peer: string, opts: ClientOptions & { zone: string, governor: string }) => {
      if (!ZONE_PATTERN.test(opts.zone)) throw new CliError(`--zone must match ${ZONE_PATTERN.source}`, EXIT.usage)
      const key = parseKey(peer)
      const signed = await signAndSubmit(new ApiClient(opts), readKeyFile(opts.governor), 'member.admit', {
        member: key, zone: opts.zone
      },
        { journal: journalPath(opts.governor) })
      emit(
        opts.json === true, { cid: signed.id, peerId: peer, zone: opts.zone },
        () => `member.admit ${signed.id}: ${peer} in zone ${opts.zone}`
      )
    })
  clientOptions(member.command('remove').description('sign a member.remove with a governor key and submit it')
    .argument('<peerid>', 'PeerId (or hex public key) of the member to remove')
    .requiredOption('--governor <keyfile>', 'governor key file')
    .option('--reason <text>', 'why', 'removed by governor'))
    .action(async (peer: string, opts: ClientOptions & { governor: string, reason: string }) => {
      const key = parseKey(peer)
      const client = new ApiClient(opts)
      const { frontier } = await client.get<{ frontier: Record<string, number> }>('/v1/dag/heads')
      const hex = Buffer.from(key).toString('hex')
      const cut = removalCut(frontier, hex)
      const signed = await signAndSubmit(client, readKeyFile(opts.governor), 'member.remove', {
        member: key, cut, reason: opts.reason
      },
        { journal: journalPath(opts.governor) })
      emit(
        opts.json === true, { cid: signed.id, peerId: peer, cut },
        () => `member.remove ${signed.id}: ${peer} (entries past seq ${cut} are invalid)`
      )
    })
}

export function parseKey (text: string): Uint8Array {
  try {
    return parsePublicKey(text)
  } catch (err) {
    throw new CliError(`${text}: ${(err as Error).message}`, EXIT.usage)
  }
}
