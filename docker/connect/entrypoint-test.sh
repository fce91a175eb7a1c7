#!/usr/bin/env bash
# Checks docker/connect/entrypoint.sh without Docker: runs it with /opt/soma and /opt/kafka moved
# to a temporary folder and a stub connect-distributed.sh that prints the properties it is given,
# then compares them with the CONNECT_* variables set. Run: bash docker/connect/entrypoint-test.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/soma/config" "$work/kafka/bin"
cp docker/connect/connect-distributed.properties "$work/soma/config/"
printf '#!/usr/bin/env bash\ncat "$1"\n' >"$work/kafka/bin/connect-distributed.sh"
chmod +x "$work/kafka/bin/connect-distributed.sh"
sed -e "s#/opt/soma#$work/soma#g" -e "s#/opt/kafka#$work/kafka#g" \
  -e "s#/tmp/connect-distributed.properties#$work/connect-distributed.properties#" \
  docker/connect/entrypoint.sh >"$work/entrypoint.sh"

out="$(env -i PATH="$PATH" \
  CONNECT_BOOTSTRAP_SERVERS='kafka:9092' \
  CONNECT_OFFSET_FLUSH_INTERVAL_MS='5000' \
  CONNECT_SSL_KEY_PASSWORD='c2VjcmV0cw=' \
  CONNECT_SASL_JAAS_CONFIG='org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p=";' \
  bash "$work/entrypoint.sh")"

failures=0
expect() {
  grep -qxF -- "$1" <<<"$out" || { echo "entrypoint test: missing line: $1" >&2; failures=$((failures + 1)); }
}
expect 'bootstrap.servers=kafka:9092'
# a base64 value keeps its trailing '=' padding
expect 'ssl.key.password=c2VjcmV0cw='
expect 'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p=";'
# an override replaces the file's line instead of adding a second one
expect 'offset.flush.interval.ms=5000'
if [ "$(grep -c '^offset.flush.interval.ms=' <<<"$out")" != 1 ]; then
  echo "entrypoint test: offset.flush.interval.ms is set more than once" >&2
  failures=$((failures + 1))
fi
# untouched settings stay
expect 'plugin.path=/opt/soma/plugins'

if [ "$failures" -gt 0 ]; then
  exit 1
fi
echo "entrypoint test: ok"
