#!/usr/bin/env bash
# The README walk-through, as one script (the README quotes these lines; a test runs them).
# Run against a running testnet: npm run testnet (in another terminal) or
#   npx govmesh testnet up --nodes 5 --detach
set -euo pipefail
DIR="${DIR:-.testnet}"
GOVMESH="${GOVMESH:-npx govmesh}"
peer() { $GOVMESH testnet status --dir "$DIR" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).nodes.find(n=>n.name===process.argv[1]).peerId))' "$1"; }

# 1. status of a node, and of the whole testnet
$GOVMESH status --data-dir "$DIR/node1"
$GOVMESH testnet status --dir "$DIR"

# 2. an allowed execution from node1 (zone a) to zone c: node1 plans the route through zone b ("route" in the answer)
$GOVMESH exec --action echo --resource demo --payload '{"hello":"mesh"}' --target zone:c --data-dir "$DIR/node1" --json | tee "$DIR/allowed.json"

# 3. a denied execution: no rule allows "deploy" (exit code 3 = refused)
$GOVMESH exec --action deploy --resource demo --target zone:b --data-dir "$DIR/node1" || echo "refused with exit code $?"

# 4. tamper node5: its peers quarantine it automatically, and refuse executions to it
$GOVMESH testnet tamper --dir "$DIR" node5
until $GOVMESH trust status --data-dir "$DIR/node1" --json | grep -q '"status": "quarantined"'; do sleep 1; done
$GOVMESH trust status --data-dir "$DIR/node1"
$GOVMESH exec --action echo --resource demo --target "$(peer node5)" --data-dir "$DIR/node1" || echo "refused with exit code $?"

# 5. bring node5 back: it runs allowed code again (until then its peers report it again), then the
#    governor lifts the quarantine (the restore quorum of this testnet is 1)
$GOVMESH testnet tamper --undo --dir "$DIR" node5
$GOVMESH trust restore "$(peer node5)" --governor "$DIR/governor.key" --data-dir "$DIR/node1"

# 6. export the allowed execution's lineage as a proof and verify it offline
RESULT="$(node -p 'require(process.argv[1]).resultCid' "$(cd "$DIR" && pwd)/allowed.json")"
$GOVMESH dag export "$RESULT" --out "$DIR/proof.car" --data-dir "$DIR/node1"
$GOVMESH proof verify "$DIR/proof.car" --genesis "$DIR/genesis.json"

# 7. join an extra node by bootstrap address: new key, admitted by the governor, started with --bootstrap
$GOVMESH init --data-dir "$DIR/extra"
$GOVMESH member admit "$($GOVMESH init --data-dir "$DIR/extra" --json | node -p 'JSON.parse(require("fs").readFileSync(0)).peerId')" --zone c --governor "$DIR/governor.key" --data-dir "$DIR/node1"
BOOTSTRAP="$($GOVMESH status --data-dir "$DIR/node1" --json | node -p 'JSON.parse(require("fs").readFileSync(0)).addrs[0]')"
$GOVMESH start --data-dir "$DIR/extra" --genesis "$DIR/genesis.json" --api 127.0.0.1:0 --bootstrap "$BOOTSTRAP" > "$DIR/extra.log" 2>&1 &
echo $! > "$DIR/extra.pid"
until [ -f "$DIR/extra/node.json" ]; do sleep 0.5; done
until $GOVMESH status --data-dir "$DIR/extra" --json | grep -q "$RESULT" || $GOVMESH dag get "$RESULT" --data-dir "$DIR/extra" > /dev/null 2>&1; do sleep 0.5; done
$GOVMESH status --data-dir "$DIR/extra"
kill "$(cat "$DIR/extra.pid")"
while [ -f "$DIR/extra/node.json" ]; do sleep 0.5; done   # the node removes node.json when it has stopped

# 8. dry-run a policy change before anyone signs it: the rule that decides, what changes, which past executions flip
$GOVMESH policy show --data-dir "$DIR/node1" --json | node -p 'const p=JSON.parse(require("fs").readFileSync(0)).document; p.rules.push({id:"no-demo",effect:"deny",principals:["*"],actions:["*"],resources:["demo"]}); JSON.stringify(p)' > "$DIR/strict.json"
$GOVMESH policy test "$DIR/strict.json" --request '{"principal":"local","action":"echo","resource":"demo","zone":"c","fromZone":"b"}'
$GOVMESH policy diff "$DIR/strict.json" --data-dir "$DIR/node1"
$GOVMESH policy replay "$DIR/strict.json" --data-dir "$DIR/node1"

# 9. rotate governors: add a second one, require both for governance changes, then retire the first
GOV1="$(node -p 'require(process.argv[1]).governors[0]' "$(cd "$DIR" && pwd)/genesis.json")"
GOV2="$($GOVMESH keygen --out "$DIR/governor2.key" --force --json | node -p 'JSON.parse(require("fs").readFileSync(0)).peerId')"
$GOVMESH governor add "$GOV2" --governor "$DIR/governor.key" --data-dir "$DIR/node1"
$GOVMESH governor quorum --policy 2 --restore 2 --governor "$DIR/governor.key" --data-dir "$DIR/node1"
$GOVMESH governor remove "$GOV1" --governor "$DIR/governor.key" --data-dir "$DIR/node1"
$GOVMESH governor remove "$GOV1" --governor "$DIR/governor2.key" --data-dir "$DIR/node1"
