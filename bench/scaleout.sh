#!/bin/sh
# scaleout.sh: NODES msgo nodes on this machine sharing one private Redis,
# PER connections on each, all joined to one room spread over every node:
# one client process per node (the 20,000 open files limit is per process),
# each spreading its PER connections over every node, so each node holds PER,
# from loopback source addresses 127.0.0.2 and up. The first process
# measures (msgo bench fanout over every node's URL: a broadcast to the room
# at RATE/s), the others hold their members until the script ends. Then a
# cross-node send-to-user run (msgo bench cluster, 1,000/s).
#
#   bench/scaleout.sh                    # 5 nodes x 19,000 = 95,000
#   NODES=5 PER=2000 RATE=50 bench/scaleout.sh
#
# Everything it starts is stopped at the end. Needs redis-server.
set -eu
NODES=${NODES:-5}
PER=${PER:-19000}
RATE=${RATE:-1}
DURATION=${DURATION:-10s}
REDIS_PORT=${REDIS_PORT:-16390}
BASE=${BASE:-19900}
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/msgo-scaleout.XXXXXX)
go build -o "$work/msgo" ./console
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	sleep 2
	for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

redis-server --port "$REDIS_PORT" --save '' --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
rpid=$!
pids="$pids $rpid"
urls=""
npids=""
for i in $(seq 1 "$NODES"); do
	ws=127.0.0.1:$((BASE + 10 * i + 1))
	mgr=127.0.0.1:$((BASE + 10 * i + 2))
	mkdir -p "$work/n$i"
	MSGO_NODE_ID=n$i MSGO_OUTSIDE_LISTEN=$ws MSGO_MANAGER_LISTEN=$mgr MSGO_MANAGER_TOKEN= \
		MSGO_AUTH_SECRET=scaleout MSGO_OUTSIDE_RATE_LIMIT=1000000 MSGO_RUNTIME_DIR="$work/n$i" \
		MSGO_OUTSIDE_MAX_CONNECTIONS=100000 \
		MSGO_CACHE_DRIVER=redis MSGO_CACHE_REDIS_ADDR=127.0.0.1:$REDIS_PORT \
		"$work/msgo" start >"$work/n$i.log" 2>&1 &
	pids="$pids $!"
	npids="$npids,$!"
	urls="$urls,ws://$ws/ws"
done
urls=${urls#,}
npids=${npids#,}
sleep 3
bench() { "$work/msgo" bench "$@" --secret scaleout --json; }
# redisuse prints Redis's CPU seconds, bytes in and out and commands so far,
# to diff around each measurement.
redisuse() {
	echo "redis $1: $(redis-cli -p "$REDIS_PORT" info cpu | sed -n 's/^used_cpu_\(sys\|user\):\(.*\)\r*$/\1=\2/p' | tr '\n' ' ')" \
		"$(redis-cli -p "$REDIS_PORT" info stats | sed -n 's/^\(total_net_input_bytes\|total_net_output_bytes\|total_commands_processed\):\([0-9]*\).*/\1=\2/p' | tr '\n' ' ')" >&2
}

# Holders: processes 2..NODES, each PER members spread over every node; they
# hold until the script ends (cleanup stops them), HOLD seconds at most.
hold=${HOLD:-1200}
for i in $(seq 2 "$NODES"); do
	bench conns --join --room-size 0 --room bench --conns "$PER" --duration "${hold}s" --timeout 15m \
		--url "$urls" --sources 8 >"$work/hold$i.json" 2>"$work/hold$i.log" &
	pids="$pids $!"
done
# Let the holders fill the room before the measuring process joins.
expect=$(( PER * (NODES - 1) ))
for _ in $(seq 1 900); do
	total=0
	for i in $(seq 1 "$NODES"); do
		c=$(curl -s "http://127.0.0.1:$((BASE + 10 * i + 2))/api/status" | sed -n 's/.*"connections":\([0-9]*\).*/\1/p')
		total=$(( total + ${c:-0} ))
	done
	# A connection that failed is not retried: 99% is a full room.
	[ "$total" -ge $(( expect * 99 / 100 )) ] && break
	sleep 1
done
echo "holders connected: $total of $expect" >&2
redisuse "before the broadcast"
echo "== room broadcast over $NODES nodes, $((PER * NODES)) members, $RATE/s" >&2
bench fanout --url "$urls" --manager "http://127.0.0.1:$((BASE + 12))" --conns "$PER" --rate "$RATE" \
	--duration "$DURATION" --pid "$npids,$rpid" --timeout 10m
redisuse "after the broadcast"
echo "== cross-node send-to-user, 1000/s" >&2
bench cluster --url "$urls" --manager "http://127.0.0.1:$((BASE + 12))" --conns 2000 --rate 1000 \
	--duration "$DURATION" --pid "$npids,$rpid"
redisuse "after send-to-user"
