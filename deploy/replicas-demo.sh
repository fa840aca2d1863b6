#!/usr/bin/env bash
# Issue 18's shell session: three Acme replicas on one PostgreSQL database
# behind haproxy (round robin, /healthz checks), one Asana sandbox, a local
# connection Company → Test; a Bulk Exalate of N new tasks through the
# balancer; kill -9 of the leader, and of the replica running the bulk's
# job if another, KILL_AFTER seconds (default 8) into the bulk, and their
# restart; then what must hold: every task twinned exactly once, one sync
# per item and each Synchronized, the bulk resumed past what it started,
# nothing queued, no errors.
#
# Needs haproxy, jq and curl; run from the repository, after
# `go build -o /tmp/tandem-main .`:
#
#	.ci/postgres bash deploy/replicas-demo.sh [N]
#
# (.ci/postgres starts a throwaway PostgreSQL server and sets
# TANDEM_TEST_DATABASE.) Ports 7100-7103 and 8191 must be free.
set -uo pipefail
T=${TANDEM:-/tmp/tandem-main}
N=${1:-200}
W=$(mktemp -d /tmp/failover-demo.XXXX)
export TANDEM_DATABASE=$TANDEM_TEST_DATABASE ASANA_TOKEN=demo-token TANDEM_ADMIN_TOKEN=demo-admin-token
export TANDEM_NODE=http://127.0.0.1:7100
pids=()
declare -A rpid
cleanup() { kill "${pids[@]}" "${rpid[@]}" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
say() { printf '\n$ %s\n' "$*"; }
until_ok() { for _ in $(seq 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "gave up on: $*"; exit 1; }

$T sandbox asana --listen 127.0.0.1:8191 --token demo-token --seed demo >"$W/sandbox.log" 2>&1 & pids+=($!)
until_ok curl -sf -H "Authorization: Bearer demo-token" http://127.0.0.1:8191/api/1.0/users/me
API=http://127.0.0.1:8191/api/1.0
auth=(-H "Authorization: Bearer demo-token")
ws=$(curl -s "${auth[@]}" $API/workspaces | jq -r '.data[0].gid')
proj() { curl -s "${auth[@]}" "$API/projects?workspace=$ws" | jq -r --arg n "$1" '.data[] | select(.name==$n) | .gid'; }
company=$(proj Company); test=$(proj Test)

cat >"$W/haproxy.cfg" <<EOF
defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server 30s
  retries 3
  option redispatch
frontend acme
  bind 127.0.0.1:7100
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /healthz
  server r1 127.0.0.1:7101 check inter 500ms fall 1 rise 1
  server r2 127.0.0.1:7102 check inter 500ms fall 1 rise 1
  server r3 127.0.0.1:7103 check inter 500ms fall 1 rise 1
EOF
haproxy -f "$W/haproxy.cfg" >"$W/haproxy.log" 2>&1 & pids+=($!)

start_replica() {
	$T serve --name Acme --data "$W/r$1" --listen 127.0.0.1:710$1 --url http://127.0.0.1:7100 \
		--asana-url $API --asana-rate-limit 1500 --webhooks=false --poll 200ms --poll-max 2s >>"$W/r$1.log" 2>&1 &
	rpid[$1]=$!
	until_ok curl -sf http://127.0.0.1:710$1/healthz
}
say "3 replicas of Acme on one PostgreSQL database, behind haproxy at $TANDEM_NODE"
for i in 1 2 3; do start_replica $i; echo "replica $i: pid ${rpid[$i]}, 127.0.0.1:710$i"; done

say "$N tasks in Company"
for i in $(seq -w 1 "$N"); do
	curl -s "${auth[@]}" -H 'Content-Type: application/json' -X POST "$API/tasks" \
		-d "{\"data\":{\"name\":\"bulk-$i\",\"notes\":\"task $i\",\"projects\":[\"$company\"],\"workspace\":\"$ws\"}}" >/dev/null &
	(( 10#$i % 20 == 0 )) && wait -n
done
wait_tasks=$(curl -s "${auth[@]}" "$API/projects/$company/tasks?limit=100" | jq '.data | length'); echo "(first page: $wait_tasks tasks)"

say "tandem connect --to $TANDEM_NODE --project Test --dest-project Company"
$T connect --to "$TANDEM_NODE" --project Test --dest-project Company || exit 1
say "tandem connections"
$T connections
conn=$($T connections --json | jq -r '.[0].id // .connections[0].id')

leader() { for i in 1 2 3; do curl -sf http://127.0.0.1:710$i/metrics | grep -q '^tandem_leader 1' && echo $i && return; done; }
say "tandem exalate --all --connection $conn   (through the balancer; in the background)"
$T exalate --all --connection "$conn" >"$W/exalate.log" 2>&1 &
xp=$!
b0=$(date +%s.%N)
sleep "${KILL_AFTER:-8}"
say "tandem queue   # ${KILL_AFTER:-8} s into the bulk"
$T queue | tail -3
L=$(leader)
B=$(grep -l 'Bulk Exalate running' "$W"/r[123]/tandem.log | sed 's|.*/r\([123]\)/tandem.log|\1|' | head -1)
say "the bulk's items started so far, in the database"
/usr/lib/postgresql/15/bin/psql -X "$TANDEM_DATABASE" -Atc "SELECT b.state, count(i.entity_id) FROM bulks b LEFT JOIN bulk_items i ON i.bulk_id = b.id GROUP BY 1"
killed=("$L"); [ -n "$B" ] && [ "$B" != "$L" ] && killed+=("$B")
say "kill -9 ${rpid[$L]}   # replica $L, the leader (tandem_leader 1), mid-bulk; the bulk's job runs on replica ${B:-?}"
t0=$(date +%s.%N)
for k in "${killed[@]}"; do kill -9 "${rpid[$k]}"; done
[ ${#killed[@]} -gt 1 ] && echo "(and kill -9 ${rpid[$B]}, replica $B, running the bulk)"
while :; do n=$(leader); [ -n "$n" ] && [ "$n" != "$L" ] && break; done
t1=$(date +%s.%N)
echo "replica $n leads now, $(echo "($t1-$t0)*1000/1" | bc) ms after the kill"
$T queue | tail -3
for k in "${killed[@]}"; do say "restart replica $k"; start_replica "$k"; done

say "waiting for tandem exalate --all to end, then until nothing is queued"
wait $xp; echo "exalate --all exited $? after $(echo "($(date +%s.%N)-$b0)/1" | bc) s"
for _ in $(seq 600); do
	q=$($T queue --json 2>/dev/null | jq '.total' 2>/dev/null)
	[ "$q" = 0 ] && break; sleep 1
done
$T queue
say "tandem errors"
$T errors
say "tasks named bulk-* in Test (the twins): total, distinct"
all=$(page=""; while :; do
	r=$(curl -s "${auth[@]}" "$API/projects/$test/tasks?limit=100&opt_fields=name${page:+&offset=$page}")
	echo "$r" | jq -r '.data[].name'
	page=$(echo "$r" | jq -r '.next_page.offset // empty'); [ -z "$page" ] && break
done | grep '^bulk-')
echo "$all" | wc -l; echo "$all" | sort -u | wc -l
PSQL=/usr/lib/postgresql/15/bin/psql
say "in the database: syncs by connection, direction and stage"
$PSQL -X "$TANDEM_DATABASE" -c "SELECT c.name, e.direction, e.stage, count(*) FROM sync_events e JOIN connections c ON c.id = e.connection_id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
say "items sent by the bulk, and how many syncs of each reached Synchronized"
$PSQL -X "$TANDEM_DATABASE" -c "SELECT n AS synchronized_syncs_per_item, count(*) AS items FROM (SELECT entity_id, count(*) FILTER (WHERE stage = 'synchronized') AS n FROM sync_events WHERE connection_id = '$conn' AND direction = 'out' GROUP BY 1) x GROUP BY 1"
say "the bulk: state, items started; and which replicas ran or resumed it"
$PSQL -X "$TANDEM_DATABASE" -Atc "SELECT b.state, count(i.entity_id), count(DISTINCT i.entity_id) FROM bulks b LEFT JOIN bulk_items i ON i.bulk_id = b.id GROUP BY 1"
for i in 1 2 3; do grep -h "Bulk Exalate" "$W/r$i/tandem.log" | sed "s/^/replica $i: /" | sed "s/ connection=[^ ]*//; s/ bulk=[^ ]*//"; done
say "tandem exalate's output"
tail -5 "$W/exalate.log"
say "the work dir: $W"
