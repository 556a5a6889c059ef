#!/usr/bin/env bash
# Install the real Claude Code CLI, at a pinned version, into the project's
# build cache and print the path of its native `claude` executable.
#
#   scripts/install-claude-code.sh            # prints .../.cache/claude-code/<version>/.../claude
#   CLAUDE_CODE_VERSION=2.1.331 scripts/install-claude-code.sh
#
# The e2e suite (make e2e) runs this binary headless against a fake Anthropic
# API to prove that Rampart's Claude Code hook works. The install is
# idempotent: a binary already in the cache that answers --version is reused
# without touching the network. When it is not there and npm or the npm
# registry cannot be reached, the script fails loudly: the e2e suite must never
# pass by silently testing nothing.
#
# Progress goes to stderr; stdout carries only the executable's path.
set -euo pipefail

# The version the e2e suite and hooks/testdata/claude-code/ were made with.
CLAUDE_CODE_VERSION="${CLAUDE_CODE_VERSION:-2.1.331}"
PACKAGE="@anthropic-ai/claude-code"

die() {
	echo "install-claude-code: error: $*" >&2
	exit 1
}
say() { echo "install-claude-code: $*" >&2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${CLAUDE_CODE_CACHE:-$root/.cache/claude-code}/$CLAUDE_CODE_VERSION"

# The native package npm installs as an optionalDependency for this machine.
platform_package() {
	local os arch libc=""
	case "$(uname -s)" in
	Linux) os=linux ;;
	Darwin) os=darwin ;;
	*) die "unsupported operating system $(uname -s)" ;;
	esac
	case "$(uname -m)" in
	x86_64 | amd64) arch=x64 ;;
	aarch64 | arm64) arch=arm64 ;;
	*) die "unsupported architecture $(uname -m)" ;;
	esac
	# Read ldd's whole output first: with pipefail, "ldd | grep -q" fails
	# at random when grep quits early and ldd dies of SIGPIPE.
	local ldd_out
	ldd_out="$(ldd --version 2>&1 || true)"
	if [[ $os == linux ]] && ! grep -qi -e glibc -e 'gnu libc' <<<"$ldd_out"; then
		libc=-musl
	fi
	echo "$PACKAGE-$os-$arch$libc"
}

pkg="$(platform_package)"
binary="$prefix/node_modules/$pkg/claude"

# works BINARY: the binary runs and reports the pinned version. It runs with a
# throwaway HOME so that nothing touches the user's ~/.claude.
works() {
	local home out
	[[ -x $1 ]] || return 1
	home="$(mktemp -d)"
	out="$(HOME="$home" DISABLE_AUTOUPDATER=1 "$1" --version 2>/dev/null)" || true
	rm -rf "$home"
	[[ $out == "$CLAUDE_CODE_VERSION "* ]]
}

if works "$binary"; then
	echo "$binary"
	exit 0
fi

command -v npm >/dev/null 2>&1 ||
	die "npm is not installed; install Node.js and npm (e.g. apt-get install nodejs npm) and run again"

say "installing $PACKAGE@$CLAUDE_CODE_VERSION into $prefix"
mkdir -p "$prefix"
# --include=optional: the native binary comes as an optionalDependency, which
# an npm configured with omit=optional would leave out.
if ! npm install --prefix "$prefix" --no-audit --no-fund --no-save --include=optional \
	"$PACKAGE@$CLAUDE_CODE_VERSION" >&2; then
	die "npm install $PACKAGE@$CLAUDE_CODE_VERSION failed (is the npm registry reachable? npm registry: $(npm config get registry 2>/dev/null || echo unknown))"
fi

[[ -e $binary ]] ||
	die "npm installed $PACKAGE but not its native package $pkg; expected $binary"
chmod +x "$binary"
works "$binary" ||
	die "$binary does not report version $CLAUDE_CODE_VERSION (got: $("$binary" --version 2>&1 | head -n1 || true))"

say "installed $("$binary" --version 2>/dev/null)"
echo "$binary"
