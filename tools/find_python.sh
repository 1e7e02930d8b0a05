#!/bin/sh
# Print the newest Python 3.11 or later on the PATH that can create a virtual environment.
# Used by the Makefile when PYTHON is not given. A name that exists but does not run (a pyenv shim
# for a version that is not selected, say) is skipped, so every candidate is tried for real.
for candidate in python3.14 python3.13 python3.12 python3.11 python3 python; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
    echo "$candidate"
    exit 0
  fi
done
exit 1
