# Steps the .ci scripts share; source it (. .ci/lib.sh) from the checkout's root or a copy.

# make_venv DIR PACKAGE...: a fresh venv at DIR (of $PYTHON, default python3), activated,
# with the build tools and PACKAGEs.
make_venv() {
  local dir=$1
  shift
  "${PYTHON:-python3}" -m venv "$dir"
  . "$dir/bin/activate"
  python -m pip install -q "setuptools>=77" wheel ninja "$@"
}

# build_editable: softsign_ext built in place against the active environment's torch, with
# the test extra (MAX_JOBS compile jobs, default 2); prints the build's time and build_info.
build_editable() {
  local start=$SECONDS
  MAX_JOBS=${MAX_JOBS:-2} python -m pip install -q --no-build-isolation -e ".[test]"
  echo "softsign_ext build: $((SECONDS - start)) s"
  python -c 'import torch, softsign_ext; print("torch", torch.__version__, "softsign_ext build_info:", softsign_ext.build_info)'
}

# build_wheel DIR: a wheel of the current folder, built against the active environment's
# torch, into DIR; prints its path.
build_wheel() {
  MAX_JOBS=${MAX_JOBS:-2} python -m pip wheel -q --no-build-isolation --no-deps -w "$1" .
  ls "$1"/softsign_ext-*.whl
}

# run_steps STEP...: runs each STEP (a function the caller defines), printing its time and,
# at the end, every step's time and the total.
run_steps() {
  local step start total=$SECONDS times=()
  for step in "$@"; do
    declare -F "$step" >/dev/null || { echo "unknown step $step" >&2; return 2; }
    echo "=== step $step"
    start=$SECONDS
    "$step"
    times+=("$step $((SECONDS - start)) s")
    echo "=== step $step: $((SECONDS - start)) s"
  done
  printf '=== %s\n' "${times[@]}" "total $((SECONDS - total)) s"
}
