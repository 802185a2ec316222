import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import {
  createGenesis, encodeGenesisFile, parsePolicyDocument, parsePublicKey, policyUpdateFor, ZONE_PATTERN,
  createPolicyState, MEMBER_NAME_PATTERN
} from '@govmesh/core'
import { readKeyFile } from '../keyfile.js'
import { CliError, emit, EXIT } from '../output.js'

const collect = (v: string, prev: string[]): string[] => [...prev, v]

/** Reads a policy JSON file and validates it, naming the file in errors. */
export function readPolicyFile (path: string): ReturnType<typeof parsePolicyDocument> {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new CliError(`cannot read policy ${path}: ${(err as Error).message}`)
  }
  try {
    return parsePolicyDocument(json)
  } catch (err) {
    throw new CliError(`${path}: ${(err as Error).message}`, EXIT.usage)
  }
}

export function registerGenesis (program: Command): void {
  program.command('genesis')
    .description('create and sign the genesis file of a new mesh (signed by the first --governor key)')
    .requiredOption(
      '--governor <keyfile>',
      'governor key file (repeatable; the first signs). A PeerId or hex key is accepted for governors after the first',
      collect, []
    )
    .option(
      '--member <peerid=zone[:name]>',
      'founding member node, its zone and an optional name shown beside its PeerId (repeatable)', collect, []
    )
    .option('--fail-quorum <n>', 'distinct reporters needed to quarantine a peer', '1')
    .option('--restore-quorum <n>', 'governor approvals needed to lift a quarantine', '1')
    .option('--policy-quorum <n>', 'governor approvals a policy.update or governor change needs', '1')
    .option('--policy <file>', 'initial policy (JSON)')
    .option('--name <name>', 'mesh name', 'govmesh')
    .requiredOption('--out <file>', 'where to write the genesis file')
    .option('--force', 'overwrite an existing file', false)
    .option('--json', 'print {"meshId", "out", ...} as JSON', false)
    .action((opts: {
      governor: string[], member: string[], failQuorum: string, restoreQuorum: string, policyQuorum: string,
      policy?: string
      name: string, out: string, force: boolean, json: boolean
    }) => {
      if (opts.governor.length === 0) throw new CliError('at least one --governor key file is required', EXIT.usage)
      const signer = readKeyFile(opts.governor[0]!)
      const governors = [
        signer.publicKey,
        ...opts.governor.slice(1).map(g => existsSync(g) ? readKeyFile(g).publicKey : parseKey(g, '--governor'))
      ]
      const members = opts.member.map(parseMember)
      const quorum = (v: string, flag: string): number => {
        const n = Number(v)
        if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag}: expected an integer >= 1`, EXIT.usage)
        return n
      }
      const fail = quorum(opts.failQuorum, '--fail-quorum')
      const restore = quorum(opts.restoreQuorum, '--restore-quorum')
      if (restore > governors.length) throw new CliError(
        `--restore-quorum ${restore} exceeds the ${governors.length} governor(s)`, EXIT.usage
      )
      const policyQuorum = quorum(opts.policyQuorum, '--policy-quorum')
      if (policyQuorum > governors.length) {
        throw new CliError(`--policy-quorum ${policyQuorum} exceeds the ${governors.length} governor(s)`, EXIT.usage)
      }
      const policy = opts.policy !== undefined ? policyUpdateFor(
        null, readPolicyFile(opts.policy)
      ) ?? new Uint8Array() : new Uint8Array()
      if (!opts.force && existsSync(opts.out)) throw new CliError(`${opts.out} exists; pass --force to overwrite it`)
      const genesis = createGenesis(
        {
          name: opts.name, governors, members,
          quorums: { fail, restore, ...(policyQuorum > 1 ? { policy: policyQuorum } : {}) }, policy
        },
        signer
      )
      const file = encodeGenesisFile(genesis)
      writeFileSync(opts.out, JSON.stringify(file, null, 2) + '\n')
      const digest = createPolicyState({ updates: [policy] }).digest()
      emit(opts.json, {
        meshId: file.meshId, out: opts.out, governors: file.governors, members: file.members, quorums: file.quorums,
        policyDigest: digest
      }, () =>
        `wrote ${opts.out}\nmesh id: ${file.meshId}\ngovernors: ${file.governors.length}, members: ` +
          `${file.members.length}, quorums: fail ${fail}, restore ${restore}, policy ${policyQuorum}`)
    })
}

/** `PEERID=ZONE[:NAME]` of --member. */
function parseMember (m: string): { key: Uint8Array, zone: string, name?: string } {
  const eq = m.lastIndexOf('=')
  if (eq <= 0) throw new CliError(`--member ${m}: expected PEERID=ZONE[:NAME]`, EXIT.usage)
  const [zone = '', name, ...extra] = m.slice(eq + 1).split(':')
  if (!ZONE_PATTERN.test(zone)) throw new CliError(`--member ${m}: zone must match ${ZONE_PATTERN.source}`, EXIT.usage)
  if (extra.length > 0 || (name !== undefined && !MEMBER_NAME_PATTERN.test(name))) {
    throw new CliError(`--member ${m}: name must match ${MEMBER_NAME_PATTERN.source}`, EXIT.usage)
  }
  return { key: parseKey(m.slice(0, eq), '--member'), zone, ...(name !== undefined ? { name } : {}) }
}

function parseKey (text: string, flag: string): Uint8Array {
  try {
    return parsePublicKey(text)
  } catch (err) {
    throw new CliError(`${flag} ${text}: ${(err as Error).message}`, EXIT.usage)
  }
}
