#!/usr/bin/env bash
# Starts a local PostgreSQL server (Debian's package) for the store's tests and prints the URL
# the tests read from ACTIVELAB_TEST_POSTGRES_URL. Idempotent: a running server is reused.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$ver main"; then
    pg_createcluster "$ver" main >/dev/null
fi
pg_ctlcluster "$ver" main start >/dev/null 2>&1 || true
port=$(pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" {print $3}')
for _ in $(seq 1 60); do
    runuser -u postgres -- pg_isready -q -p "$port" && break
    sleep 0.5
done
runuser -u postgres -- pg_isready -q -p "$port"
psql_su() { runuser -u postgres -- psql -p "$port" -qtA "$@"; }
[ "$(psql_su -c "SELECT 1 FROM pg_roles WHERE rolname='activelab'")" = "1" ] ||
    psql_su -c "CREATE ROLE activelab LOGIN SUPERUSER PASSWORD 'activelab'" >/dev/null
[ "$(psql_su -c "SELECT 1 FROM pg_database WHERE datname='activelab_test'")" = "1" ] ||
    runuser -u postgres -- createdb -p "$port" -O activelab activelab_test
echo "postgresql+psycopg://activelab:activelab@127.0.0.1:${port}/activelab_test"
