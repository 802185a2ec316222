import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { decodeKeyFile, generateKeyPair, peerIdFromPublicKey, toHex } from '@govmesh/core'
import { writeKeyFile } from '../keyfile.js'
import { emit } from '../output.js'

export function registerInit (program: Command): void {
  program.command('init')
    .description('create a node data directory with its Ed25519 key (DIR/node.key); prints the PeerId')
    .requiredOption('--data-dir <dir>', 'the node data directory')
    .option('--json', 'print {"peerId", "publicKey", "dataDir", "created"} as JSON', false)
    .action((opts: { dataDir: string, json: boolean }) => {
      mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 })
      const keyPath = join(opts.dataDir, 'node.key')
      const created = !existsSync(keyPath)
      // Re-running init is harmless: an existing identity is kept, never replaced.
      const keys = created ? generateKeyPair() : decodeKeyFile(readFileSync(keyPath, 'utf8'))
      if (created) writeKeyFile(keyPath, keys, false)
      const peerId = peerIdFromPublicKey(keys.publicKey)
      emit(opts.json, { peerId, publicKey: toHex(keys.publicKey), dataDir: opts.dataDir, created }, () =>
        `${created ? 'initialized' : 'already initialized'} ${opts.dataDir}\npeer id: ${peerId}`)
    })
}
