#!/usr/bin/env bash
# Runs check_metrics.py with the real Prometheus text parser (prometheus_client, pinned below),
# installed once into a venv under $INTAKE_CACHE; later runs reuse it.
#   tests/metrics/run_check.sh before.txt after.txt [check_metrics.py options]
# Called by the integration test MetricsExposition (tests/integration/metrics_test.cc).
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

PROMETHEUS_CLIENT_VERSION=0.26.0

venv="$INTAKE_CACHE/prometheus-client-$PROMETHEUS_CLIENT_VERSION"
if ! "$venv/bin/python" -c "import prometheus_client" 2>/dev/null; then
  apt_ensure python3 python3-venv
  rm -rf "$venv"
  log "installing prometheus_client $PROMETHEUS_CLIENT_VERSION into $venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q "prometheus_client==$PROMETHEUS_CLIENT_VERSION" >"$INTAKE_CACHE/prometheus-client-pip.log" 2>&1 ||
    fail_with_log "$INTAKE_CACHE/prometheus-client-pip.log" "pip install prometheus_client==$PROMETHEUS_CLIENT_VERSION failed"
fi
exec "$venv/bin/python" "$INTAKE_ROOT/tests/metrics/check_metrics.py" "$@"
