#!/usr/bin/env bash
# A RabbitMQ broker of the tests' own (Debian's rabbitmq-server), on its own ports, node name and data directory, so it
# neither needs nor disturbs a broker the machine may run. It runs as the rabbitmq user: its directories belong to it.
#
#   build/rabbitmq.sh start   installs rabbitmq-server if missing (root: apt-get), starts the node, waits until it serves AMQP
#   build/rabbitmq.sh stop    stops the node (and only it)
#   build/rabbitmq.sh url     prints the AMQP URL the tests read from GRACEFULSHUTDOWN_RABBITMQ_URL
#
# Settings (environment): GS_RABBITMQ_PORT (AMQP, default 5673; Erlang distribution on the port + 20000), GS_RABBITMQ_DIR
# (default /tmp/gracefulshutdown-rabbitmq, or /tmp/gracefulshutdown-rabbitmq-PORT on another port). The node is named after
# the port, so brokers on different ports (two checkouts, two runs) neither collide nor stop each other.
set -euo pipefail
port="${GS_RABBITMQ_PORT:-5673}"
if [ "$port" = 5673 ]; then suffix=""; else suffix="-$port"; fi
dir="${GS_RABBITMQ_DIR:-/tmp/gracefulshutdown-rabbitmq$suffix}"
node="gracefulshutdown-test$suffix@localhost"
bin=/usr/lib/rabbitmq/bin

as_rabbitmq() {
  # su keeps the environment (the RABBITMQ_* variables below); HOME holds the Erlang cookie rabbitmqctl needs.
  if [ "$(id -u)" = 0 ]; then su rabbitmq -s /bin/sh -c "HOME=/var/lib/rabbitmq $*"; else sh -c "$*"; fi
}

export RABBITMQ_NODENAME="$node" RABBITMQ_NODE_PORT="$port" RABBITMQ_DIST_PORT="$((port + 20000))" \
  RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
  RABBITMQ_PID_FILE="$dir/node.pid" RABBITMQ_CONFIG_FILE="$dir/rabbitmq"

case "${1:-}" in
  start)
    if [ ! -x "$bin/rabbitmq-server" ]; then
      if [ "$(id -u)" != 0 ]; then echo "build/rabbitmq.sh needs rabbitmq-server (apt-get install rabbitmq-server, as root)" >&2; exit 1; fi
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
    fi
    # A fresh data directory every run: no queue or message survives from an earlier run.
    as_rabbitmq "$bin/rabbitmqctl -q -n $node stop" >/dev/null 2>&1 || true
    rm -rf "$dir"
    mkdir -p "$dir/mnesia" "$dir/log"
    # No plugins (the management plugin would open port 15672); loopback only; guest may connect over loopback.
    echo '[].' > "$dir/enabled_plugins"
    printf 'listeners.tcp.1 = 127.0.0.1:%s\nloopback_users.guest = true\n' "$port" > "$dir/rabbitmq.conf"
    if [ "$(id -u)" = 0 ]; then chown -R rabbitmq:rabbitmq "$dir"; fi
    as_rabbitmq "nohup $bin/rabbitmq-server > $dir/log/startup.log 2>&1 &"
    # "wait" follows the pid file until the node has started (await_startup fails if the node has not registered yet).
    as_rabbitmq "$bin/rabbitmqctl -q -n $node wait $dir/node.pid --timeout 60" || { cat "$dir/log/startup.log" >&2; exit 1; }
    echo "rabbitmq $node on 127.0.0.1:$port ($dir)"
    ;;
  stop)
    as_rabbitmq "$bin/rabbitmqctl -q -n $node stop" >/dev/null 2>&1 || true
    ;;
  url)
    echo "amqp://guest:guest@127.0.0.1:$port/"
    ;;
  *) echo "usage: build/rabbitmq.sh start|stop|url" >&2; exit 2 ;;
esac
