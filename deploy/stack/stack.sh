#!/usr/bin/env bash
# `make stack`: ztmm without Docker. Starts the exporter on the demo organization, Prometheus with ztmm's
# rules and Alertmanager (the Debian packages prometheus and prometheus-alertmanager), all on 127.0.0.1,
# prints their URLs and runs until Ctrl-C, which stops all three and removes what they wrote.
#
# Prometheus runs on deploy/prometheus/prometheus.yml and Alertmanager on deploy/alertmanager/alertmanager.yml
# themselves, not copies: the state directory only holds symlinks to them, the generated targets files
# and the data directories.
#
# Environment (all optional):
#   STACK_EXPORTER_PORT      exporter port (default 9917)
#   STACK_PROMETHEUS_PORT    Prometheus port (default 9090)
#   STACK_ALERTMANAGER_PORT  Alertmanager port (default 9093)
#   STACK_EXPORTER           ztmm-exporter binary (default: built from this checkout with go build)
#   STACK_DIR                state directory, kept on exit (default: a temporary one, removed on exit)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
host=127.0.0.1
exporter_port=${STACK_EXPORTER_PORT:-9917}
prometheus_port=${STACK_PROMETHEUS_PORT:-9090}
alertmanager_port=${STACK_ALERTMANAGER_PORT:-9093}

die() { echo "stack: $*" >&2; exit 1; }

find_bin() {
  local n
  for n in "$@"; do
    if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return 0; fi
  done
  return 1
}

prometheus=$(find_bin prometheus) ||
  die "prometheus not found: install the Debian packages prometheus and prometheus-alertmanager (bash .ci/run does)"
alertmanager=$(find_bin prometheus-alertmanager alertmanager) ||
  die "alertmanager not found: install the Debian package prometheus-alertmanager (bash .ci/run does)"

prometheus_config=$repo/deploy/prometheus/prometheus.yml
rules=$repo/alerts/ztmm.rules.yml
alertmanager_config=$repo/deploy/alertmanager/alertmanager.yml
for f in "$prometheus_config" "$rules" "$alertmanager_config"; do
  [ -f "$f" ] || die "$f is missing (generated files: run make generate)"
done

if [ -n "${STACK_DIR:-}" ]; then
  dir=$STACK_DIR
  remove_dir=0
  mkdir -p "$dir"
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/ztmm-stack.XXXXXX")
  remove_dir=1
fi

pids=()
names=()
cleanup() {
  trap - EXIT INT TERM
  local i
  # SIGTERM: background children of a non-interactive shell ignore SIGINT; all three shut down cleanly on it.
  for i in "${!pids[@]}"; do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  for _ in $(seq 1 150); do
    local alive=0
    for i in "${!pids[@]}"; do kill -0 "${pids[$i]}" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for i in "${!pids[@]}"; do
    if kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "stack: ${names[$i]} did not stop within 15s; killing it" >&2
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
  if [ "$remove_dir" -eq 1 ]; then rm -rf "$dir"; fi
  echo "stack: stopped"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

exporter=${STACK_EXPORTER:-}
if [ -z "$exporter" ]; then
  command -v go >/dev/null 2>&1 || die "go not found: set STACK_EXPORTER to a ztmm-exporter binary"
  echo "stack: building ztmm-exporter"
  (cd "$repo" && go build -o "$dir/ztmm-exporter" ./cmd/ztmm-exporter)
  exporter=$dir/ztmm-exporter
fi
[ -x "$exporter" ] || die "$exporter is not an executable"

# The layout prometheus.yml expects next to itself (see its header).
mkdir -p "$dir/prometheus/rules" "$dir/prometheus/targets" "$dir/logs" "$dir/demo"
ln -sfn "$prometheus_config" "$dir/prometheus/prometheus.yml"
ln -sfn "$rules" "$dir/prometheus/rules/ztmm.rules.yml"
printf -- '- targets: ["%s:%s"]\n' "$host" "$exporter_port" >"$dir/prometheus/targets/ztmm.yml"
printf -- '- targets: ["%s:%s"]\n' "$host" "$alertmanager_port" >"$dir/prometheus/targets/alertmanager.yml"

# Each process gets its own session, so Ctrl-C in the terminal reaches only this script, whose trap then
# stops all three in order; otherwise they would race the trap and the script would report them as
# having died on their own.
detach=()
if command -v setsid >/dev/null 2>&1; then detach=(setsid); fi
start() {
  local name=$1
  shift
  "${detach[@]}" "$@" >"$dir/logs/$name.log" 2>&1 &
  pids+=("$!")
  names+=("$name")
}

start ztmm-exporter "$exporter" --demo --demo.dir="$dir/demo" --web.listen-address="$host:$exporter_port"
start alertmanager "$alertmanager" --config.file="$alertmanager_config" \
  --storage.path="$dir/alertmanager-data" --web.listen-address="$host:$alertmanager_port" \
  --cluster.listen-address= # a single instance: no gossip port
start prometheus "$prometheus" --config.file="$dir/prometheus/prometheus.yml" \
  --storage.tsdb.path="$dir/prometheus-data" --web.listen-address="$host:$prometheus_port" \
  --web.external-url="http://$host:$prometheus_port/"

# Print the URLs once every process listens, or say which one failed and why.
listening() { (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null; }
ports=("$exporter_port" "$alertmanager_port" "$prometheus_port")
for i in "${!pids[@]}"; do
  for _ in $(seq 1 600); do
    listening "${ports[$i]}" && break
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "stack: ${names[$i]} exited; its log:" >&2
      tail -n 30 "$dir/logs/${names[$i]}.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  listening "${ports[$i]}" || die "${names[$i]} does not listen on $host:${ports[$i]} after 60s (log: $dir/logs/${names[$i]}.log)"
done

cat <<EOF
ztmm stack running (state and logs in $dir):
  exporter      http://$host:$exporter_port/metrics
  Prometheus    http://$host:$prometheus_port/   rules: http://$host:$prometheus_port/rules
  Alertmanager  http://$host:$alertmanager_port/
Press Ctrl-C to stop.
EOF

# Run until Ctrl-C, or until one process dies, which ends the stack rather than leave it half up.
status=0
wait -n "${pids[@]}" || status=$?
for i in "${!pids[@]}"; do
  if ! kill -0 "${pids[$i]}" 2>/dev/null; then
    echo "stack: ${names[$i]} exited (status $status); its log:" >&2
    tail -n 30 "$dir/logs/${names[$i]}.log" >&2
  fi
done
exit 1
