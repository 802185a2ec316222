// Where the built console lives, for the node that serves it and the CLI that writes the proof viewer.
import { fileURLToPath } from 'node:url'

export const CONSOLE_DIST_DIR = fileURLToPath(new URL('./dist/', import.meta.url))
