#!/bin/bash
# Runs a Python test script with Debian's interpreter (which has PyYAML):
#   run_python.sh SCRIPT ARGS...
exec /usr/bin/python3 "$@"
