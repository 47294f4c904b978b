#!/usr/bin/env bash
# Runs a Python unittest file (the first argument) with Debian's python3.
exec /usr/bin/python3 "$1"
