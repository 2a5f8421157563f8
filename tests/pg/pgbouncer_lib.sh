# pgbouncer_lib.sh: PgBouncer in transaction pooling mode in front of the
# `pg` fixture's server, for a test. Sourced (after the fixture's env:
# STRATA_PG_PORT):
#     . tests/pg/pgbouncer_lib.sh
#     pgbouncer_start DIR [POOL_SIZE] || exit 1   # sets pgbouncer_port
#     ... postgresql://postgres@127.0.0.1:$pgbouncer_port/DB ...
#     pgbouncer_stop DIR                          # in the test's EXIT trap
# DIR is the test's own directory (config, log and pid file go there).

# pgbouncer_start DIR [POOL_SIZE]: a random port may be taken (other tests
# start servers on random ports too), and a daemonised PgBouncer reports a
# failed bind only in its log: tries three ports, each until it answers, and
# shows the log when none does.
pgbouncer_start() {
  local dir=$1 pool=${2:-3} attempt
  local run_as=()
  command -v pgbouncer >/dev/null || {
    echo "pgbouncer not installed: apt-get install pgbouncer"
    return 1
  }
  [ "$(id -u)" = 0 ] && run_as=(runuser -u postgres --)
  chown postgres "$dir" 2>/dev/null
  echo '"postgres" ""' >"$dir/users.txt"
  for attempt in 1 2 3; do
    pgbouncer_port=$((20000 + ((RANDOM << 15) | RANDOM) % 40000))
    cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$STRATA_PG_PORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $pgbouncer_port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = $pool
max_client_conn = 400
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
    chown postgres "$dir"/users.txt "$dir"/pgbouncer.ini 2>/dev/null
    if "${run_as[@]}" pgbouncer -d "$dir/pgbouncer.ini"; then
      for _ in $(seq 100); do
        psql -X -q "postgresql://postgres@127.0.0.1:$pgbouncer_port/postgres" -c 'SELECT 1' \
          >/dev/null 2>&1 && return 0
        sleep 0.1
      done
    fi
    pgbouncer_stop "$dir"
    echo "pgbouncer: no answer on port $pgbouncer_port (attempt $attempt)"
  done
  echo "pgbouncer did not answer on three ports; its log:"
  cat "$dir/pgbouncer.log" 2>/dev/null
  return 1
}

pgbouncer_stop() {
  [ -f "$1/pgbouncer.pid" ] && kill "$(cat "$1/pgbouncer.pid")" 2>/dev/null
  sleep 0.3
  rm -f "$1/pgbouncer.pid"
}
