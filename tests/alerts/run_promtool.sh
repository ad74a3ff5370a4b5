#!/usr/bin/env bash
# Checks examples/prometheus/intake-alerts.yml with Prometheus's own promtool: the rules parse
# (`promtool check rules`), and each alert fires on the series it is written for and stays
# quiet on healthy ones (`promtool test rules tests/alerts/intake-alerts-test.yml`).
# promtool comes from Debian's prometheus package, unpacked under $INTAKE_CACHE (downloaded,
# not installed: installing would also set up a Prometheus server and its service).
#   tests/alerts/run_promtool.sh        (the ctest alerts.promtool)
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

PROMETHEUS_DEB_VERSION=2.42.0+ds-5+deb12u1

dir="$INTAKE_CACHE/promtool-$PROMETHEUS_DEB_VERSION"
promtool="$dir/usr/bin/promtool"
if [[ ! -x "$promtool" ]]; then
  apt_log="$INTAKE_CACHE/promtool-apt.log"
  rm -rf "$dir" && mkdir -p "$dir"
  log "downloading Debian's prometheus $PROMETHEUS_DEB_VERSION for promtool into $dir"
  download() { (cd "$dir" && apt-get -q download "prometheus=$PROMETHEUS_DEB_VERSION") >>"$apt_log" 2>&1; }
  if ! download; then
    apt-get -q update >>"$apt_log" 2>&1 || fail_with_log "$apt_log" "apt-get update failed"
    download || fail_with_log "$apt_log" "apt-get download prometheus=$PROMETHEUS_DEB_VERSION failed"
  fi
  dpkg-deb -x "$dir"/prometheus_*.deb "$dir" || die "cannot unpack $(ls "$dir"/prometheus_*.deb)"
  rm -f "$dir"/prometheus_*.deb
  [[ -x "$promtool" ]] || die "no usr/bin/promtool in Debian's prometheus package"
fi

cd "$INTAKE_ROOT"
"$promtool" check rules examples/prometheus/intake-alerts.yml
"$promtool" test rules tests/alerts/intake-alerts-test.yml

# Every metric the rules name is one the gateway writes (docs/metrics.md lists them all; a unit
# test holds that list to the code).
status=0
for metric in $(grep -o 'intake_[a-z_]*' examples/prometheus/intake-alerts.yml | sed -E 's/_(bucket|sum|count)$//' | sort -u); do
  grep -q "\`$metric\`" docs/metrics.md || { log "examples/prometheus/intake-alerts.yml names $metric, which docs/metrics.md does not list"; status=1; }
done
exit $status
