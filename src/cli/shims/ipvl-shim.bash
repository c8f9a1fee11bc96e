#!/bin/bash
# ipvl shim: stands in for ip, ping, tcpdump, sysctl, nft, conntrack, dmesg, sleep, cat, test and [
# inside `ipvl run` / `ipvl shell`. `ipvl run` copies this file into its private temp dir (with
# the shebang pointing at the bash it uses) and links every tool name to it; the name it was
# called by is the tool. It sends the command line to the ipvl process, which runs it on the
# simulated kernel, and relays stdout, stderr and the exit status. cat, test and [ are the
# system's unless an argument is a /sys or /proc/sys path.
#
# Why bash on /dev/tcp: a script calls shims hundreds of times, so start-up cost is what counts.
# Measured on a 2-vCPU VM, 200 calls of `ip link show` in a loop: this shim 8.4-8.9 ms/call,
# where fork+exec of /bin/true costs 3.3 ms and `bash -c :` 5.7 ms (so bash start-up is most of
# it); a compiled C client on a Unix socket: 4.5 ms (but needs a compiler at run time); perl
# with IO::Socket::UNIX: 31 ms; node: 109 ms. bash cannot open a Unix socket, hence TCP on
# 127.0.0.1; every connection must first present IPVL_TOKEN (random, per run, only in the
# environment of the run's processes). The environment is not sent: the server reads
# /proc/PID/environ (collecting it here needs a $(compgen -e) fork: +4 ms).
# Protocol: src/cli/run/protocol.ts.

__ipvl_tool=${0##*/}

__ipvl_die() {
  printf 'ipvl: %s: %s\n' "$__ipvl_tool" "$1" >&2
  exit "${2:-1}"
}

# cat, test and [: the system's, unless an argument names a file of the simulated kernel.
case $__ipvl_tool in
cat | test | '[')
  for __ipvl_a; do
    case $__ipvl_a in /sys/* | /proc/sys/*) __ipvl_virtual=1 ;; esac
  done
  if [[ -z ${__ipvl_virtual-} ]]; then
    set -f
    IFS=:
    for __ipvl_d in $PATH; do
      [[ -z $__ipvl_d || $__ipvl_d == "${IPVL_SHIMS-}" ]] && continue
      [[ -f $__ipvl_d/$__ipvl_tool && -x $__ipvl_d/$__ipvl_tool ]] && exec -a "$__ipvl_tool" "$__ipvl_d/$__ipvl_tool" "$@"
    done
    __ipvl_die "command not found" 127
  fi
  ;;
esac

# A background job (`tcpdump ... &`) starts with SIGINT ignored, and bash cannot trap a signal
# that was ignored on entry. The real tcpdump, ping, conntrack -E, iperf3 install their own
# handler, so `kill -INT $!` stops them anyway: for those tools (IPVL_SIGINT_TOOLS) re-exec with
# SIGINT reset (IPVL_SIGRESET: an `env` with --default-signal). Other tools keep ignoring it, as
# the real ones do (`sleep 9 & kill -INT $!` does nothing).
if [[ -n ${IPVL_SIGRESET-} && " ${IPVL_SIGINT_TOOLS-} " == *" $__ipvl_tool "* ]]; then
  while read -r __ipvl_k __ipvl_v; do
    [[ $__ipvl_k == SigIgn: ]] || continue
    ((16#$__ipvl_v & 2)) && exec "$IPVL_SIGRESET" --default-signal=INT "$0" "$@"
    break
  done </proc/$$/status
fi

# Escapes one request field into REPLY: backslash, newline, field separator (US).
__ipvl_esc() {
  REPLY=${1//\\/\\\\}
  REPLY=${REPLY//$'\n'/\\n}
  REPLY=${REPLY//$'\x1f'/\\u}
}

__ipvl_sig() {
  __ipvl_got=$1
  printf 'K%s\n' "$1" >&3 2>/dev/null
}

# __ipvl_call TOOL ARGV...: runs one command in the server; sets __ipvl_rc.
__ipvl_call() {
  # LC_ALL=C: `read -N` counts bytes, as the frame lengths do (local: gone when this returns).
  local LC_ALL=C tool=$1 line arg req
  shift
  [[ -n ${IPVL_PORT-} && -n ${IPVL_TOKEN-} ]] || __ipvl_die 'not running under "ipvl run" (no IPVL_PORT)'
  { exec 3<>"/dev/tcp/127.0.0.1/$IPVL_PORT"; } 2>/dev/null ||
    __ipvl_die "cannot connect to the ipvl server (127.0.0.1:$IPVL_PORT)"
  # One line, fields separated by US (0x1f): one write(2) (bash's stdout is line buffered).
  __ipvl_esc "$PWD"
  req="IPVL1 $IPVL_TOKEN"$'\x1f'"P$$"$'\x1f'"T$tool"$'\x1f'"C$REPLY"
  if [[ -n ${IPVL_NETNS-} ]]; then
    __ipvl_esc "$IPVL_NETNS"
    req+=$'\x1f'"N$REPLY"
  fi
  for arg; do
    __ipvl_esc "$arg"
    req+=$'\x1f'"A$REPLY"
  done
  # From here on a signal is forwarded; the tool decides what to print and how to exit.
  trap '__ipvl_sig SIGINT' INT
  trap '__ipvl_sig SIGTERM' TERM
  trap '__ipvl_sig SIGHUP' HUP
  printf '%s\n' "$req" >&3
  while IFS= read -r line <&3; do
    case $line in
    1*)
      IFS= read -r -N "${line:1}" arg <&3
      printf '%s' "$arg"
      ;;
    2*)
      IFS= read -r -N "${line:1}" arg <&3
      printf '%s' "$arg" >&2
      ;;
    I)
      IFS= read -r -d '' arg
      __ipvl_esc "$arg"
      printf 'I%s\n' "$REPLY" >&3
      ;;
    x*)
      __ipvl_rc=${line:1}
      exec 3>&-
      return
      ;;
    esac
  done
  exec 3>&-
  __ipvl_die "lost the connection to the ipvl server"
}

# `ip netns exec NS CMD...`: the server checks NS (and prints iproute2's errors), then CMD runs
# here, in this process (same pid, so `kill $!` reaches it), with IPVL_NETNS=NS.
if [[ $__ipvl_tool == ip && ${1-} == netns && ${2-} == exec ]]; then
  __ipvl_call @netns-exec ip "$@"
  ((__ipvl_rc == 0)) || exit "$__ipvl_rc"
  trap - INT TERM HUP
  export IPVL_NETNS=$3
  shift 3
  __ipvl_c=$1 __ipvl_p=
  if [[ $__ipvl_c == */* ]]; then
    __ipvl_p=$__ipvl_c
  else
    set -f
    IFS=:
    for __ipvl_d in $PATH; do
      __ipvl_d=${__ipvl_d:-.}
      if [[ -f $__ipvl_d/$__ipvl_c && -x $__ipvl_d/$__ipvl_c ]]; then
        __ipvl_p=$__ipvl_d/$__ipvl_c
        break
      fi
    done
    unset IFS
    set +f
  fi
  if [[ -z $__ipvl_p || ! -e $__ipvl_p ]]; then
    printf 'exec of "%s" failed: No such file or directory\n' "$__ipvl_c" >&2
    exit 1
  fi
  if [[ -d $__ipvl_p || ! -x $__ipvl_p ]]; then
    printf 'exec of "%s" failed: Permission denied\n' "$__ipvl_c" >&2
    exit 1
  fi
  exec -a "$__ipvl_c" "$__ipvl_p" "${@:2}"
fi

__ipvl_call "$__ipvl_tool" "$__ipvl_tool" "$@"
# A tool that reports death by the signal this shim got (128 + signo) makes the shim die of it,
# so that the calling shell reacts as to a killed process (an interrupted script stops).
case ${__ipvl_got-}:$__ipvl_rc in
SIGINT:130 | SIGTERM:143 | SIGHUP:129)
  trap - "${__ipvl_got#SIG}"
  kill -s "${__ipvl_got#SIG}" $$
  ;;
esac
exit "$__ipvl_rc"
