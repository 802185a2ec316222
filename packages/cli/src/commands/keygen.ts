import type { Command } from 'commander'
import { generateKeyPair, peerIdFromPublicKey, toHex } from '@govmesh/core'
import { writeKeyFile } from '../keyfile.js'
import { emit } from '../output.js'

export function registerKeygen (program: Command): void {
  program.command('keygen')
    .description('create an Ed25519 key file (mode 0600) for a node, governor or agent')
    .requiredOption('--out <file>', 'where to write the key file')
    .option('--force', 'overwrite an existing file', false)
    .option('--json', 'print {"publicKey", "peerId"} as JSON', false)
    .action((opts: { out: string, force: boolean, json: boolean }) => {
      const keys = generateKeyPair()
      writeKeyFile(opts.out, keys, opts.force)
      const publicKey = toHex(keys.publicKey)
      const peerId = peerIdFromPublicKey(keys.publicKey)
      emit(opts.json, { publicKey, peerId, file: opts.out }, () =>
        `wrote ${opts.out}\npublic key: ${publicKey}\npeer id:    ${peerId}`)
    })
}
