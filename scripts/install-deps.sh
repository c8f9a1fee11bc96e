#!/usr/bin/env bash
# Installs the Debian (bookworm) packages that ipvl's real-kernel tests and tools need.
# Idempotent: installs only what is missing, runs `apt-get update` only when something is.
# Quiet when nothing is missing; prints what it installs; exits non-zero with a clear message
# on failure. Skips (exit 0, with a message) when not run as root, since it cannot install then.
set -euo pipefail

# package -> a command it provides, checked after installing so a broken install is caught here
# rather than as a confusing test failure later.
readonly PACKAGES=(
  "iproute2:ip"
  "iputils-ping:ping"
  "tcpdump:tcpdump"
  "tshark:tshark"
  "nftables:nft"
  "conntrack:conntrack"
  "iperf3:iperf3"
  "curl:curl"
  "procps:ps"
  "kmod:modprobe"
  "bash:bash"
)

# sbin directories are not on every root PATH (e.g. `su` without `-`); the checks below need them.
export PATH="${PATH}:/usr/local/sbin:/usr/sbin:/sbin"

die() {
  echo "install-deps: error: $*" >&2
  exit 1
}

is_installed() {
  local status
  status="$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" || return 1
  [[ "${status}" == "installed" ]]
}

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script supports Debian only"

missing=()
for entry in "${PACKAGES[@]}"; do
  pkg="${entry%%:*}"
  is_installed "${pkg}" || missing+=("${pkg}")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo "install-deps: skipped, not root; missing packages: ${missing[*]}" >&2
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "apt-get not found: cannot install ${missing[*]}"

log="$(mktemp -t install-deps.XXXXXX)"
trap 'rm -f "${log}"' EXIT

# Shows the apt output only when something failed, to stay quiet on success.
run_apt() {
  if ! "$@" >"${log}" 2>&1; then
    cat "${log}" >&2
    return 1
  fi
}

export DEBIAN_FRONTEND=noninteractive
readonly APT_OPTS=(-q -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=120)

echo "install-deps: installing: ${missing[*]}"
run_apt apt-get "${APT_OPTS[@]}" update || die "apt-get update failed (see output above)"
run_apt apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "${missing[@]}" ||
  die "apt-get install failed for: ${missing[*]} (see output above)"

# Verify every package, not only the ones just installed: a package can be "installed" by dpkg
# yet lack its binary (a half-configured state after an interrupted install).
for entry in "${PACKAGES[@]}"; do
  pkg="${entry%%:*}"
  cmd="${entry#*:}"
  is_installed "${pkg}" || die "package ${pkg} is still not installed after apt-get install"
  command -v "${cmd}" >/dev/null 2>&1 || die "package ${pkg} is installed but command ${cmd} is not on PATH"
done
echo "install-deps: done"
