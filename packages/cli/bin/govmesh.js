#!/usr/bin/env node
// Thin launcher so the bin link exists before the first build; the CLI lives in dist/.
// A smaller V8 young generation keeps an idle daemon under 100 MB RSS (about 115 MB
// otherwise) at a small cost in latency. GOVMESH_V8_FLAGS overrides ('' for V8's defaults).
import v8 from 'node:v8'
const flags = process.env.GOVMESH_V8_FLAGS ?? '--optimize-for-size'
for (const flag of flags.split(/\s+/).filter(Boolean)) v8.setFlagsFromString(flag)

// `npx govmesh …` runs us as `npm exec → sh -c govmesh … → node`. npm forwards SIGTERM and SIGINT
// only to that shell, which dies without passing them on, so `kill $!` of a backgrounded
// `npx govmesh start` would leave the node running under init. Treat the loss of the parent as the
// SIGTERM it stands for. The marker is removed so processes we spawn (testnet nodes, which outlive
// a detached `testnet up`) do not inherit the watch.
if (process.env.npm_command === 'exec') {
  delete process.env.npm_command
  const parent = process.ppid
  const watch = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(watch)
    process.kill(process.pid, 'SIGTERM')
  }, 200)
  watch.unref()
}
await import('../dist/main.js')
