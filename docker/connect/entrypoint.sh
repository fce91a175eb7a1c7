#!/usr/bin/env bash
# Starts the soma-connect worker: connect-distributed.properties, overridden by CONNECT_*
# variables (CONNECT_BOOTSTRAP_SERVERS -> bootstrap.servers, CONNECT_GROUP_ID -> group.id), with the
# Prometheus JMX exporter on :9404 (/metrics).
set -euo pipefail

props=/tmp/connect-distributed.properties
cp /opt/soma/config/connect-distributed.properties "$props"
# names from compgen, values through ${!name}: splitting `env` lines on '=' cut a value's trailing
# '=' (CONNECT_SSL_KEY_PASSWORD=c2VjcmV0cw= became ...=c2VjcmV0cw)
for name in $(compgen -e); do
  case "$name" in
    CONNECT_*)
      key="$(printf '%s' "${name#CONNECT_}" | tr '[:upper:]_' '[:lower:].')"
      grep -v "^${key//./\\.}=" "$props" >"$props.new" || true
      mv "$props.new" "$props"
      printf '%s=%s\n' "$key" "${!name}" >>"$props"
      ;;
  esac
done

export KAFKA_OPTS="${KAFKA_OPTS:-} -javaagent:/opt/soma/jmx/jmx_prometheus_javaagent.jar=${METRICS_PORT:-9404}:/opt/soma/jmx/jmx-exporter.yml"
exec /opt/kafka/bin/connect-distributed.sh "$props"
