#!/usr/bin/env bash
# Which module of src/ may include which: the layering the code is built on, checked on every
# `#include "module/file.h"`. A module may always include its own files. A pattern with a '/'
# allows only those files of that module (e.g. the YAML loader in config/ reads the other
# modules' *_options.h, and nothing else of them).
# Exit 1 with one line per offending include.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../src"

declare -A allowed=(
  [error]="json"
  [concurrency]=""
  [crypto]=""
  [encoding]="error"
  [json]=""
  [logging]=""
  [metrics]=""
  [names]="error"
  [http]="concurrency error json metrics"
  [kafka]="concurrency error metrics names"
  [spool]="error kafka metrics"
  [config]="concurrency crypto error json logging metrics names http/*_options.h kafka/*_options.h spool/*_options.h sources/*_options.h"
  [policy]="concurrency config crypto encoding error metrics names"
  [sources]="config encoding error json names"
  [api]="config crypto encoding error http json kafka metrics names policy"
  [ops]="config crypto error http json kafka logging metrics policy sources spool"
  [app]="*"
)
# Named because they are the point of the rules: the config snapshot knows nothing of request
# policy, and the transport/producer/spool see no part of the YAML loader.
declare -A forbidden=(
  [config]="policy/*"
  [http]="config/*"
  [kafka]="config/* policy/*"
  [spool]="config/*"
)

status=0
for module_dir in */; do
  module="${module_dir%/}"
  if [[ ! -v "allowed[$module]" ]]; then
    echo "include rules: module src/$module has no row in scripts/lint/include_rules.sh" >&2
    status=1
    continue
  fi
  while IFS=: read -r file line text; do
    target="$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$text")"
    [[ "$target" == */* ]] || continue
    target_module="${target%%/*}"
    [[ "$target_module" == "$module" ]] && continue
    ok=0
    for pattern in ${allowed[$module]}; do
      # shellcheck disable=SC2053  # a glob on purpose
      if [[ "$pattern" == "*" || "$pattern" == "$target_module" || ( "$pattern" == */* && "$target" == $pattern ) ]]; then ok=1; fi
    done
    for pattern in ${forbidden[$module]:-}; do
      # shellcheck disable=SC2053
      [[ "$target" == $pattern ]] && ok=0
    done
    if ((ok == 0)); then
      echo "include rules: src/$file:$line includes \"$target\", but $module/ may include only: ${allowed[$module]:-nothing outside itself}" >&2
      status=1
    fi
  done < <(grep -rn "#include \"" "$module" || true)
done
exit $status
