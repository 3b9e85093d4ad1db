#!/usr/bin/env bash
# Lint a bundled OpenAPI document with the ecosystem's standard linters:
#   Spectral (@stoplight/spectral-cli, ruleset bench/spectral.yaml = spectral:oas)
#   Redocly  (@redocly/cli, `lint --extends recommended`)
# Usage: bash bench/peers_lint.sh build/openapi.json
# Both are installed with npm (pinned versions) into a cache folder outside the
# repo ($APOLLOSPACE_PEERS_CACHE, default ~/.cache/apollospace-peers) when
# missing. Prints one summary line per linter on stdout (problems on stderr)
# and exits non-zero if either linter reports an error or fails to run.
# Without npm it prints "skipped: npm not found" and exits 0.
set -euo pipefail

SPECTRAL_VERSION=6.16.3
REDOCLY_VERSION=2.77.0

if [[ $# -ne 1 ]]; then
    echo "usage: bash bench/peers_lint.sh <bundle.json>" >&2
    exit 2
fi
if [[ ! -f "$1" ]]; then
    echo "peers-lint: no such file: $1 (run \`make bundle\` first)" >&2
    exit 2
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "skipped: npm not found"
    exit 0
fi
if ! command -v node >/dev/null 2>&1; then
    echo "peers-lint: npm is present but node is not" >&2
    exit 2
fi

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bundle=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ruleset="$bench_dir/spectral.yaml"
cache=${APOLLOSPACE_PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/apollospace-peers}

# Installed version of an npm package in the cache, or nothing.
installed_version() {
    local manifest="$cache/node_modules/$1/package.json"
    [[ -f "$manifest" ]] || return 0
    node -e 'process.stdout.write(require(process.argv[1]).version)' "$manifest"
}

if [[ "$(installed_version @stoplight/spectral-cli)" != "$SPECTRAL_VERSION" ||
      "$(installed_version @redocly/cli)" != "$REDOCLY_VERSION" ||
      ! -x "$cache/node_modules/.bin/spectral" || ! -x "$cache/node_modules/.bin/redocly" ]]; then
    echo "peers-lint: installing spectral-cli@$SPECTRAL_VERSION and redocly-cli@$REDOCLY_VERSION into $cache" >&2
    mkdir -p "$cache"
    [[ -f "$cache/package.json" ]] || echo '{"private": true}' > "$cache/package.json"
    # --ignore-scripts: neither CLI needs an install script (the only one in the
    # tree is an analytics ping).
    (cd "$cache" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error \
        "@stoplight/spectral-cli@$SPECTRAL_VERSION" "@redocly/cli@$REDOCLY_VERSION" >&2)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Both run from the cache folder so no stray config file (.spectral.yaml,
# redocly.yaml) in the caller's directory changes the rules.
spectral_rc=0
(cd "$cache" && ./node_modules/.bin/spectral lint -r "$ruleset" -f json -o "$work/spectral.json" \
    "$bundle" >"$work/spectral.out" 2>"$work/spectral.err") || spectral_rc=$?
redocly_rc=0
(cd "$cache" && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
    ./node_modules/.bin/redocly lint --extends recommended --format json \
    "$bundle" >"$work/redocly.json" 2>"$work/redocly.err") || redocly_rc=$?

# Summarize from the JSON reports, not from exit codes: Spectral exits 1 on
# errors, Redocly too, and either may crash (exit code set, no valid report).
node - "$work" "$SPECTRAL_VERSION" "$REDOCLY_VERSION" "$spectral_rc" "$redocly_rc" <<'JS'
const fs = require("fs");
const [work, spectralVersion, redoclyVersion, spectralRc, redoclyRc] = process.argv.slice(2);
let failed = false;
const n = (k, word) => `${k} ${word}${k === 1 ? "" : "s"}`;
const pointer = (path) => "#/" + path.map((s) => String(s).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");

function load(name, rc) {
  try {
    return JSON.parse(fs.readFileSync(`${work}/${name}.json`, "utf8"));
  } catch (err) {
    console.log(`${name}: FAILED to run (exit ${rc}, no JSON report)`);
    for (const f of [`${name}.out`, `${name}.err`]) {
      if (fs.existsSync(`${work}/${f}`)) process.stderr.write(fs.readFileSync(`${work}/${f}`, "utf8"));
    }
    failed = true;
    return null;
  }
}

const spectral = load("spectral", spectralRc);
if (spectral) {
  const names = ["error", "warn", "info", "hint"];
  const count = [0, 0, 0, 0];
  for (const p of spectral) count[p.severity] += 1;
  const extra = count[2] + count[3] ? `, ${count[2]} info, ${n(count[3], "hint")}` : "";
  console.log(`spectral ${spectralVersion} (spectral:oas): ${n(count[0], "error")}, ${n(count[1], "warning")}${extra}`);
  for (const p of spectral) {
    console.error(`  spectral ${names[p.severity]} ${p.code} ${pointer(p.path)}: ${p.message}`);
  }
  if (count[0] > 0) failed = true;
}

const redocly = load("redocly", redoclyRc);
if (redocly) {
  const t = redocly.totals;
  const ignored = t.ignored ? `, ${t.ignored} ignored` : "";
  console.log(`redocly ${redoclyVersion} (recommended): ${n(t.errors, "error")}, ${n(t.warnings, "warning")}${ignored}`);
  for (const p of redocly.problems) {
    const where = (p.location && p.location[0] && p.location[0].pointer) || "";
    console.error(`  redocly ${p.severity} ${p.ruleId} ${where}: ${p.message}`);
  }
  if (t.errors > 0) failed = true;
}

process.exit(failed ? 1 : 0);
JS
