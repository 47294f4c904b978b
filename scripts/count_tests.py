"""Sums passed/failed test cases over Bazel's test.xml reports.

Usage: bazel query 'tests(//...)' | count_tests.py BAZEL_TESTLOGS_DIR [XML...]
Prints "PASSED FAILED". Each further XML file is a report of a test run
outside Bazel (e.g. the system test of the CMake-built binaries); a missing
one fails. GoogleTest reports (root named "AllTests") count
their cases. Any other report is Bazel's own one-case summary of a target (a
shell test, or a binary that crashed before writing its report), counted as
one case. A listed target with no report at all (it did not build) fails.
"""
import os
import sys
import xml.etree.ElementTree as ET


def is_failure(case):
    return case.find("failure") is not None or case.find("error") is not None


def count_report(path):
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError):
        return 0, 1
    cases = [c for c in root.iter("testcase") if c.get("status") != "notrun"]
    if root.get("name") != "AllTests":
        return (0, 1) if any(is_failure(c) for c in cases) else (1, 0)
    failed = sum(1 for c in cases if is_failure(c))
    return len(cases) - failed, failed


def main():
    logs = sys.argv[1] if len(sys.argv) > 1 else "bazel-testlogs"
    passed = failed = 0
    for label in sys.stdin.read().split():
        package, _, name = label.lstrip("/").partition(":")
        p, f = count_report(os.path.join(logs, package, name, "test.xml"))
        passed += p
        failed += f
    for path in sys.argv[2:]:
        p, f = count_report(path)
        passed += p
        failed += f
    print(passed, failed)


if __name__ == "__main__":
    main()
