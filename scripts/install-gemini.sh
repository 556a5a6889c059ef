#!/usr/bin/env bash
# Install the real Gemini CLI, at a pinned version, into the project's build
# cache and print the path of its `gemini` executable (a Node.js script: node
# must be on PATH to run it).
#
#   scripts/install-gemini.sh            # prints .../.cache/gemini/<version>/node_modules/.bin/gemini
#   GEMINI_CLI_VERSION=0.61.0 scripts/install-gemini.sh
#
# The e2e suite (make e2e) runs this CLI headless against a fake Gemini API to
# prove that Rampart's Gemini CLI hook works. The install is idempotent: a CLI
# already in the cache that reports the pinned version is reused without
# touching the network. When it is not there and npm or the npm registry
# cannot be reached, the script fails loudly: the e2e suite must never pass by
# silently testing nothing.
#
# Progress goes to stderr; stdout carries only the executable's path.
set -euo pipefail

# The version the e2e suite and hooks/testdata/gemini/ were made with.
GEMINI_CLI_VERSION="${GEMINI_CLI_VERSION:-0.61.0}"
PACKAGE="@google/gemini-cli"
# Gemini CLI needs Node.js 20 or later.
NODE_MAJOR_MIN=20

die() {
	echo "install-gemini: error: $*" >&2
	exit 1
}
say() { echo "install-gemini: $*" >&2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${GEMINI_CLI_CACHE:-$root/.cache/gemini}/$GEMINI_CLI_VERSION"
binary="$prefix/node_modules/.bin/gemini"

command -v node >/dev/null 2>&1 ||
	die "node is not installed; install Node.js $NODE_MAJOR_MIN or later (e.g. apt-get install nodejs npm) and run again"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= NODE_MAJOR_MIN)) ||
	die "Gemini CLI needs Node.js $NODE_MAJOR_MIN or later; this node is $(node --version)"

# works BINARY: the CLI runs and reports the pinned version. It runs with a
# throwaway HOME so that nothing touches the user's ~/.gemini.
works() {
	local home out
	[[ -x $1 ]] || return 1
	home="$(mktemp -d)"
	out="$(HOME="$home" GEMINI_CLI_NO_RELAUNCH=true "$1" --version 2>/dev/null)" || true
	rm -rf "$home"
	[[ $out == "$GEMINI_CLI_VERSION" ]]
}

if works "$binary"; then
	echo "$binary"
	exit 0
fi

command -v npm >/dev/null 2>&1 ||
	die "npm is not installed; install Node.js and npm (e.g. apt-get install nodejs npm) and run again"

say "installing $PACKAGE@$GEMINI_CLI_VERSION into $prefix"
mkdir -p "$prefix"
# The optional native helpers (node-pty, keytar) are not needed headless.
if ! npm install --prefix "$prefix" --no-audit --no-fund --no-save \
	"$PACKAGE@$GEMINI_CLI_VERSION" >&2; then
	die "npm install $PACKAGE@$GEMINI_CLI_VERSION failed (is the npm registry reachable? npm registry: $(npm config get registry 2>/dev/null || echo unknown))"
fi

works "$binary" ||
	die "$binary does not report version $GEMINI_CLI_VERSION (got: $("$binary" --version 2>&1 | head -n1 || true))"

say "installed $PACKAGE $("$binary" --version 2>/dev/null)"
echo "$binary"
