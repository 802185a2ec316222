#!/usr/bin/env bash
# The README's "three-node mesh by hand", as one script (the README quotes these lines; a test runs them).
set -euo pipefail
GM="${GM:-/tmp/gm}"; rm -rf "$GM"   # the section's scratch directory, started clean
peer() { npx govmesh init --data-dir "$GM/$1" --json | node -p 'JSON.parse(require("fs").readFileSync(0)).peerId'; }

# keys: one governor (an operator key, usable offline) and three node data dirs
npx govmesh keygen --out "$GM/governor.key"
npx govmesh init --data-dir "$GM/n1"
npx govmesh init --data-dir "$GM/n2"
npx govmesh init --data-dir "$GM/n3"

# a policy: zones a→b→c, "echo" allowed for the local operator, nothing else
cat > "$GM/policy.json" <<'EOF'
{ "rules": [ { "id": "echo-local", "effect": "allow", "principals": ["local"], "actions": ["echo"] } ],
  "transitions": [["a", "b"], ["b", "c"]] }
EOF

# the genesis file names the founding governors, members (PeerId=zone:name), quorums and policy
npx govmesh genesis --governor "$GM/governor.key" \
  --member "$(peer n1)=a:alpha" --member "$(peer n2)=b:bravo" --member "$(peer n3)=c:charlie" \
  --policy "$GM/policy.json" --out "$GM/genesis.json"

# start node 1, then nodes 2 and 3 bootstrapping to it (logs in $GM/n*.log; the API port is picked freely)
npx govmesh start --data-dir "$GM/n1" --genesis "$GM/genesis.json" --api 127.0.0.1:0 > "$GM/n1.log" 2>&1 &
N1=$!
until [ -f "$GM/n1/node.json" ]; do sleep 0.5; done
BOOTSTRAP="$(node -p 'require(process.argv[1]).addrs[0]' "$GM/n1/node.json")"
npx govmesh start --data-dir "$GM/n2" --genesis "$GM/genesis.json" --api 127.0.0.1:0 --bootstrap "$BOOTSTRAP" > "$GM/n2.log" 2>&1 &
N2=$!
npx govmesh start --data-dir "$GM/n3" --genesis "$GM/genesis.json" --api 127.0.0.1:0 --bootstrap "$BOOTSTRAP" > "$GM/n3.log" 2>&1 &
N3=$!
until [ -f "$GM/n2/node.json" ] && [ -f "$GM/n3/node.json" ]; do sleep 0.5; done
npx govmesh status --data-dir "$GM/n2"          # --data-dir finds the API URL and token
# wait until node 1 trusts all three members (connected is not enough: trust needs a heartbeat)
trusted() { npx govmesh trust status --data-dir "$GM/$1" --json | node -p 'JSON.parse(require("fs").readFileSync(0)).peers.filter(p => p.status === "trusted").length'; }
until [ "$(trusted n1)" -ge 3 ]; do sleep 0.5; done
npx govmesh peers --data-dir "$GM/n1"

# governed execution: from node 1 (zone a) to any trusted member of zone c, through node 2 (zone b)
npx govmesh exec --action echo --resource demo --payload '{"hello":"mesh"}' --target zone:c --route "$(peer n2)" --data-dir "$GM/n1"
npx govmesh exec --action deploy --resource demo --target zone:b --data-dir "$GM/n1" || echo "refused with exit code $?"

# the governor changes the policy through node 3: nothing under secret/ may run any more
cat > "$GM/policy-v2.json" <<'EOF'
{ "rules": [ { "id": "echo-local", "effect": "allow", "principals": ["local"], "actions": ["echo"] },
             { "id": "no-secrets", "effect": "deny", "principals": ["*"], "actions": ["*"], "resources": ["secret/*"] } ],
  "transitions": [["a", "b"], ["b", "c"]] }
EOF
npx govmesh policy apply "$GM/policy-v2.json" --governor "$GM/governor.key" --data-dir "$GM/n3"
# every node converges to the new digest, and node 1 now refuses what node 3's governor forbade
digest() { npx govmesh policy show --data-dir "$GM/$1" --json | node -p 'JSON.parse(require("fs").readFileSync(0)).digest'; }
until [ "$(digest n1)" = "$(digest n3)" ] && [ "$(digest n2)" = "$(digest n3)" ]; do sleep 0.5; done
for n in n1 n2 n3; do echo "$n policy digest: $(digest $n)"; done
npx govmesh exec --action echo --resource secret/plans --target zone:a --data-dir "$GM/n1" || echo "refused with exit code $?"
npx govmesh dag log --type policy.update --data-dir "$GM/n2"

# any member reports a peer: every node refuses it; only the governors (restore quorum) lift it
npx govmesh trust report "$(peer n2)" --reason "suspicious" --data-dir "$GM/n3"
until npx govmesh trust status --data-dir "$GM/n1" --json | grep -q '"status": "quarantined"'; do sleep 0.5; done
npx govmesh trust status --data-dir "$GM/n1"
npx govmesh trust restore "$(peer n2)" --governor "$GM/governor.key" --data-dir "$GM/n1"

# stop the three nodes (SIGTERM stops each cleanly; through npx too)
kill "$N1" "$N2" "$N3"
while [ -f "$GM/n1/node.json" ] || [ -f "$GM/n2/node.json" ] || [ -f "$GM/n3/node.json" ]; do sleep 0.5; done
