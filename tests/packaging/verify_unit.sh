#!/usr/bin/env bash
# Checks packaging/systemd/intake.service with systemd's own tools, against the built binary:
#  - `systemd-analyze verify`: every directive is known and well-formed (no warning), the binary exists;
#  - `systemd-analyze security --offline`: the hardening keeps the exposure score at most 2.0
#    ("OK" on systemd's scale of 0 to 10);
#  - the unit's ExecStartPre (`check-config`) and ExecStart command lines parse with the binary.
#   tests/packaging/verify_unit.sh <path of the intake binary>   (the ctest packaging.systemd_unit)
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

binary="${1:?usage: verify_unit.sh <intake binary>}"
apt_ensure systemd
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The unit names /usr/local/bin/intake and /etc/intake/intake.yaml, as installed.
sed -e "s|/usr/local/bin/intake|$binary|g" -e "s|/etc/intake/intake.yaml|$INTAKE_ROOT/examples/intake.yaml|g" \
  "$INTAKE_ROOT/packaging/systemd/intake.service" >"$work/intake.service"
grep -q '^Type=notify$' "$work/intake.service" || die "the unit is not Type=notify"
grep -q '^LimitNOFILE=' "$work/intake.service" || die "the unit sets no LimitNOFILE"

# verify exits 0 on an unknown or misspelt directive (it only warns): any output fails too.
if ! (cd "$work" && systemd-analyze verify "$work/intake.service") >"$work/verify.txt" 2>&1 || [[ -s "$work/verify.txt" ]]; then
  cat "$work/verify.txt" >&2
  die "systemd-analyze verify refused or warned about the unit"
fi
if ! (cd "$work" && systemd-analyze security --offline=yes --threshold=20 "$work/intake.service" >"$work/security.txt" 2>&1); then
  cat "$work/security.txt" >&2
  die "the unit's exposure score is above 2.0"
fi
grep 'Overall exposure level' "$work/security.txt"

# ExecStartPre as written, and ExecStart's options (checked with --help: run would serve).
pre="$(sed -n 's/^ExecStartPre=//p' "$work/intake.service")"
$pre || die "the unit's ExecStartPre failed: $pre"
start="$(sed -n 's/^ExecStart=//p' "$work/intake.service")"
$start --help >/dev/null || die "the unit's ExecStart does not parse: $start"
log "packaging/systemd/intake.service: verified"
