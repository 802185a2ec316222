import type { Command, Help, Option } from 'commander'

/** One example per command, keyed by its path below `govmesh` (what `--help` shows last). */
export const EXAMPLES: Record<string, string> = {
  keygen: 'govmesh keygen --out ~/.govmesh/governor.key',
  init: 'govmesh init --data-dir /var/lib/govmesh',
  genesis: 'govmesh genesis --governor gov.key --member 12D3KooW…=a:alpha --policy policy.json --out genesis.json',
  start: 'govmesh start --data-dir /var/lib/govmesh --genesis genesis.json --listen /ip4/0.0.0.0/tcp/4001',
  status: 'govmesh status --data-dir /var/lib/govmesh',
  peers: 'govmesh peers --data-dir /var/lib/govmesh -o wide',
  join: 'govmesh join /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW… --data-dir /var/lib/govmesh',
  policy: 'govmesh policy show --data-dir /var/lib/govmesh',
  'policy show': 'govmesh policy show --data-dir /var/lib/govmesh --json',
  'policy apply': 'govmesh policy apply policy.json --governor gov.key --data-dir /var/lib/govmesh',
  'policy test': 'govmesh policy test policy.json --request ' +
    '\'{"principal":"local","action":"echo","resource":"jobs/1","zone":"a"}\'',
  'policy diff': 'govmesh policy diff policy.json --data-dir /var/lib/govmesh',
  'policy replay': 'govmesh policy replay policy.json --since 2026-12-01T00:00:00Z --data-dir /var/lib/govmesh',
  governor: 'govmesh governor add 12D3KooW… --governor gov.key --data-dir /var/lib/govmesh',
  'governor add': 'govmesh governor add 12D3KooW… --governor gov.key --data-dir /var/lib/govmesh',
  'governor remove': 'govmesh governor remove 12D3KooW… --governor gov.key --data-dir /var/lib/govmesh',
  'governor quorum': 'govmesh governor quorum --policy 2 --restore 2 --governor gov.key --data-dir /var/lib/govmesh',
  'governor journal': 'govmesh governor journal --governor gov.key',
  member: 'govmesh member admit 12D3KooW… --zone c --governor gov.key --data-dir /var/lib/govmesh',
  'member admit': 'govmesh member admit 12D3KooW… --zone c --governor gov.key --data-dir /var/lib/govmesh',
  'member remove': 'govmesh member remove 12D3KooW… --governor gov.key --reason "decommissioned" --data-dir ' +
    '/var/lib/govmesh',
  dag: 'govmesh dag log --limit 20 --data-dir /var/lib/govmesh',
  'dag heads': 'govmesh dag heads --data-dir /var/lib/govmesh',
  'dag get': 'govmesh dag get bafyrei… --data-dir /var/lib/govmesh',
  'dag log': 'govmesh dag log --type exec.result --limit 20 --data-dir /var/lib/govmesh',
  'dag ancestry': 'govmesh dag ancestry bafyrei… --depth 5 --data-dir /var/lib/govmesh',
  'dag export': 'govmesh dag export bafyrei… --out proof.car --data-dir /var/lib/govmesh',
  'dag verify': 'govmesh dag verify --data-dir /var/lib/govmesh',
  proof: 'govmesh proof verify proof.car --genesis genesis.json',
  'proof verify': 'govmesh proof verify proof.car --genesis genesis.json --json',
  exec: 'govmesh exec --action echo --resource demo --payload \'{"hello":"mesh"}\' --target zone:c --data-dir ' +
    '/var/lib/govmesh',
  trust: 'govmesh trust status --data-dir /var/lib/govmesh',
  'trust status': 'govmesh trust status --data-dir /var/lib/govmesh -o wide',
  'trust report': 'govmesh trust report 12D3KooW… --reason "unexpected outbound traffic" --data-dir /var/lib/govmesh',
  'trust restore': 'govmesh trust restore 12D3KooW… --governor gov.key --data-dir /var/lib/govmesh',
  measurement: 'govmesh measurement --json',
  version: 'govmesh version --json',
  completion: 'govmesh completion bash > /etc/bash_completion.d/govmesh',
  testnet: 'govmesh testnet up --nodes 5 --detach',
  'testnet up': 'govmesh testnet up --nodes 5 --detach',
  'testnet status': 'govmesh testnet status -o wide',
  'testnet down': 'govmesh testnet down',
  'testnet kill': 'govmesh testnet kill node3',
  'testnet tamper': 'govmesh testnet tamper node5   # later: govmesh testnet tamper --undo node5',
  'testnet partition': 'govmesh testnet partition node1 node2',
  'testnet heal': 'govmesh testnet heal'
}

/** The path of a command below the program, e.g. `testnet up`. */
export function commandPath (cmd: Command): string {
  const names: string[] = []
  for (let c: Command | null = cmd; c?.parent != null; c = c.parent) names.unshift(c.name())
  return names.join(' ')
}

/** Every command below `root`, depth first. */
export function allCommands (root: Command): Command[] {
  return root.commands.flatMap(c => [c, ...allCommands(c)])
}

/**
 * Marks required flags "(required)" in `--help` and appends each command's example.
 * Applied once the whole tree is built, so no command can be missed.
 */
export function decorateHelp (program: Command): void {
  const help: Partial<Help> = {
    optionDescription: (option: Option): string => {
      const extra: string[] = []
      if (option.mandatory) extra.push('required')
      if (
        option.defaultValue !== undefined && option.defaultValue !== false && !(
          Array.isArray(option.defaultValue) && option.defaultValue.length === 0
        )
      ) {
        extra.push(`default: ${JSON.stringify(option.defaultValue)}`)
      }
      return extra.length > 0 ? `${option.description} (${extra.join(', ')})` : option.description
    }
  }
  for (const cmd of [program, ...allCommands(program)]) {
    cmd.configureHelp(help)
    if (cmd === program) continue
    // A command added without an entry still shows its usage as the example.
    const example = EXAMPLES[commandPath(cmd)] ?? `govmesh ${commandPath(cmd)} ${cmd.usage()}`
    cmd.addHelpText('after', `\nExample:\n  $ ${example}`)
  }
}
