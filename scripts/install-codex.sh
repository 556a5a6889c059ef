#!/usr/bin/env bash
# Install the real Codex CLI, at a pinned version, into the project's build
# cache and print the path of its native `codex` executable.
#
#   scripts/install-codex.sh            # prints .../.cache/codex/<version>/.../codex
#   CODEX_VERSION=0.169.0 scripts/install-codex.sh
#
# The e2e suite (make e2e) runs this binary headless against a fake Responses
# API to prove that Rampart's Codex hook works. The install is idempotent: a
# binary already in the cache that reports the pinned version is reused
# without touching the network. When it is not there and npm or the npm
# registry cannot be reached, the script fails loudly: the e2e suite must never
# pass by silently testing nothing.
#
# Progress goes to stderr; stdout carries only the executable's path.
set -euo pipefail

# The version the e2e suite and hooks/testdata/codex/ were made with.
CODEX_VERSION="${CODEX_VERSION:-0.169.0}"
PACKAGE="@openai/codex"

die() {
	echo "install-codex: error: $*" >&2
	exit 1
}
say() { echo "install-codex: $*" >&2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${CODEX_CACHE:-$root/.cache/codex}/$CODEX_VERSION"

# The native package npm installs as an optionalDependency for this machine
# (an alias of $PACKAGE@<version>-<platform>), and the target triple of the
# binary inside it.
case "$(uname -s)" in
Linux) os=linux vendor=unknown-linux-musl ;;
Darwin) os=darwin vendor=apple-darwin ;;
*) die "unsupported operating system $(uname -s)" ;;
esac
case "$(uname -m)" in
x86_64 | amd64) arch=x64 cpu=x86_64 ;;
aarch64 | arm64) arch=arm64 cpu=aarch64 ;;
*) die "unsupported architecture $(uname -m)" ;;
esac
binary="$prefix/node_modules/$PACKAGE-$os-$arch/vendor/$cpu-$vendor/bin/codex"

# works BINARY: the binary runs and reports the pinned version. It runs with a
# throwaway HOME and CODEX_HOME so that nothing touches the user's ~/.codex.
works() {
	local home out
	[[ -x $1 ]] || return 1
	home="$(mktemp -d)"
	out="$(HOME="$home" CODEX_HOME="$home/.codex" "$1" --version 2>/dev/null)" || true
	rm -rf "$home"
	[[ $out == "codex-cli $CODEX_VERSION" ]]
}

if works "$binary"; then
	echo "$binary"
	exit 0
fi

command -v npm >/dev/null 2>&1 ||
	die "npm is not installed; install Node.js and npm (e.g. apt-get install nodejs npm) and run again"

say "installing $PACKAGE@$CODEX_VERSION into $prefix"
mkdir -p "$prefix"
# --include=optional: the native binary comes as an optionalDependency, which
# an npm configured with omit=optional would leave out.
if ! npm install --prefix "$prefix" --no-audit --no-fund --no-save --include=optional \
	"$PACKAGE@$CODEX_VERSION" >&2; then
	die "npm install $PACKAGE@$CODEX_VERSION failed (is the npm registry reachable? npm registry: $(npm config get registry 2>/dev/null || echo unknown))"
fi

[[ -e $binary ]] ||
	die "npm installed $PACKAGE but not its native package for $os-$arch; expected $binary"
chmod +x "$binary"
works "$binary" ||
	die "$binary does not report version $CODEX_VERSION (got: $("$binary" --version 2>&1 | head -n1 || true))"

say "installed $("$binary" --version 2>/dev/null)"
echo "$binary"
