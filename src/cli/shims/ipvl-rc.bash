# ipvl: read by every non-interactive bash under `ipvl run` (BASH_ENV) and by `ipvl shell`
# (--rcfile). `test` and `[` are bash builtins, so a shim in PATH never sees them: these
# functions send the ones that name a /sys or /proc/sys path to the `test`/`[` shim (the
# simulated kernel answers), and leave everything else to the builtin. `[[ ]]` cannot be
# intercepted, nor can dash's builtin test (`sh -c`).

# The shims are bash scripts too; they need none of this.
[[ $0 == "${IPVL_SHIMS-}"/* ]] && return 0

__ipvl_test() {
  local __ipvl_cmd=$1 __ipvl_a
  shift
  for __ipvl_a; do
    case $__ipvl_a in
    /sys/* | /proc/sys/*)
      "$IPVL_SHIMS/$__ipvl_cmd" "$@"
      return
      ;;
    esac
  done
  builtin "$__ipvl_cmd" "$@"
}
test() { __ipvl_test test "$@"; }
[() { __ipvl_test [ "$@"; }

if [[ $- == *i* ]]; then
  PS1='ipvl$ '
fi
