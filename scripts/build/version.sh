#!/usr/bin/env bash
# Prints mezzo's version, the one value the module (main.version), the
# loaders, the worker's name and the npm package carry. Its source is
# web/npm/package.json's "version": a clean checkout of the tag v<version>
# is that version; anything else is a pre-release of it that names the
# commit (semver §9), so two builds of different code never share a
# runtime worker: 0.1.0-dev.g1a2b3c4, with .dirty for uncommitted changes.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(sed -n 's/^  "version": "\([^"]*\)",$/\1/p' web/npm/package.json)
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "version.sh: web/npm/package.json has no plain x.y.z version" >&2; exit 1; }
if ! git rev-parse --git-dir >/dev/null 2>&1; then
  echo "$version-dev"
  exit 0
fi
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | head -1)
if [[ -z $dirty && $(git describe --exact-match --tags HEAD 2>/dev/null || true) == "v$version" ]]; then
  echo "$version"
else
  echo "$version-dev.g$(git rev-parse --short=7 HEAD)${dirty:+.dirty}"
fi
