import type { Command } from 'commander'
import {
  CID, equalBytes, removalCut, sortCids, toHex, type GovernanceProposal, type QuorumEntryType
} from '@govmesh/core'
import { ApiClient, clientOptions, type ClientOptions } from '../client.js'
import {
  approveQuorumEntry, pooledProposals, quorumText, type GovernanceView, type QuorumOutcome
} from '../governance-quorum.js'
import { journalPath, readJournal, resetJournal } from '../journal.js'
import { readKeyFile } from '../keyfile.js'
import { CliError, emit, EXIT } from '../output.js'
import { parseKey } from './governance.js'

type Opts = ClientOptions & { governor: string }

function count (v: string, flag: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag}: expected an integer >= 1`, EXIT.usage)
  return n
}

/**
 * Approves `fresh` unless the node already pools a proposal `same` recognizes (another governor's,
 * with its base and cut): then that exact proposal, so the approvals add up.
 */
async function approve (
  opts: Opts, type: QuorumEntryType, fresh: (gov: GovernanceView, client: ApiClient) => Promise<GovernanceProposal>,
  same: (p: GovernanceProposal) => boolean, mayComplete = true
): Promise<QuorumOutcome> {
  const client = new ApiClient(opts)
  const keys = readKeyFile(opts.governor)
  const gov = await client.get<GovernanceView>('/v1/governance')
  const pooled = (await pooledProposals(client, type)).find(p => same(p.proposal))
  const proposal = pooled?.proposal ?? await fresh(gov, client)
  const base = (proposal.body as { base: CID[] }).base.map(c => c.toString())
  const journal = journalPath(opts.governor)
  return await approveQuorumEntry(client, keys, gov, proposal, { journal, extraParents: base, mayComplete })
}

const baseOf = (gov: GovernanceView): CID[] => sortCids(gov.heads.map(h => CID.parse(h)))

/** `govmesh governor add|remove|quorum|journal`: rotate governors and quorums, one approval at a time. */
export function registerGovernor (program: Command): void {
  const governor = program.command('governor')
    .description('add or remove governors and change quorums (each call is one governor\'s approval); ' +
      'the signing journal')

  clientOptions(governor.command('add')
    .description('approve adding a governor; the approval completing the policy quorum submits governor.add')
    .argument('<peerid>', 'PeerId or hex public key of the new governor')
    .requiredOption('--governor <keyfile>', 'your governor key file'))
    .action(async (peer: string, opts: Opts) => {
      const key = parseKey(peer)
      const o = await approve(opts, 'governor.add',
        async (gov) => ({ type: 'governor.add', body: { governor: key, base: baseOf(gov) } }),
        (p) => equalBytes((p.body as { governor: Uint8Array }).governor, key))
      emit(opts.json === true, o, () => quorumText(`governor.add of ${peer}`, o))
    })

  clientOptions(governor.command('remove')
    .description('approve removing a governor; its entries past the recorded cut become invalid everywhere')
    .argument('<peerid>', 'PeerId or hex public key of the governor to remove')
    .requiredOption('--governor <keyfile>', 'your governor key file'))
    .action(async (peer: string, opts: Opts) => {
      const key = parseKey(peer)
      const o = await approve(opts, 'governor.remove', async (gov, client) => {
        if (!gov.governors.includes(toHex(key))) throw new CliError(`${peer} is not a governor`, EXIT.usage)
        const { frontier } = await client.get<{ frontier: Record<string, number> }>('/v1/dag/heads')
        const cut = removalCut(frontier, toHex(key))
        return { type: 'governor.remove', body: { governor: key, cut, base: baseOf(gov) } }
      }, (p) => equalBytes((p.body as { governor: Uint8Array }).governor, key),
      // A governor's own removal is submitted by another: its own entry would already lie past the cut.
      !equalBytes(readKeyFile(opts.governor).publicKey, key))
      emit(opts.json === true, o, () => quorumText(`governor.remove of ${peer}`, o))
    })

  clientOptions(governor.command('quorum')
    .description('approve new quorums: --policy (policy updates and governor changes) and --restore')
    .requiredOption('--policy <n>', 'governor approvals a policy.update or governor change needs')
    .requiredOption('--restore <n>', 'governor approvals a trust.restore needs')
    .requiredOption('--governor <keyfile>', 'your governor key file'))
    .action(async (opts: Opts & { policy: string, restore: string }) => {
      const policy = count(opts.policy, '--policy')
      const restore = count(opts.restore, '--restore')
      const o = await approve(opts, 'governor.quorum', async (gov) => {
        if (Math.max(policy, restore) > gov.governors.length) {
          throw new CliError(`a quorum exceeds the ${gov.governors.length} governor(s)`, EXIT.usage)
        }
        return { type: 'governor.quorum', body: { policy, restore, base: baseOf(gov) } }
      }, (p) => {
        const b = p.body as { policy: number, restore: number }
        return b.policy === policy && b.restore === restore
      })
      emit(opts.json === true, o, () => quorumText(`governor.quorum (policy ${policy}, restore ${restore})`, o))
    })

  governor.command('journal')
    .description('show this key\'s signing journal (KEYFILE.journal: the last seq and CID it signed per mesh); ' +
      '--reset deletes it')
    .requiredOption('--governor <keyfile>', 'governor key file')
    .option('--reset', 'delete the journal (only when no node holds the entry it records; see the README)')
    .option('--json', 'print JSON')
    .action((opts: { governor: string, reset?: boolean, json?: boolean }) => {
      const path = journalPath(opts.governor)
      if (opts.reset === true) {
        const had = resetJournal(path)
        emit(opts.json === true, { path, reset: had }, () => had ? `deleted ${path}` : `no journal at ${path}`)
        return
      }
      const j = readJournal(path)
      emit(opts.json === true, { path, meshes: j?.meshes ?? {} }, () => j === undefined
        ? `no journal at ${path} (nothing signed through the CLI yet)`
        : Object.entries(j.meshes).map(([mesh, r]) => `${mesh}: seq ${r.seq} ${r.id}`).join('\n'))
    })
}
