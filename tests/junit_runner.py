"""Runs a module's unittest cases verbosely and, under Bazel, writes the JUnit
XML report ($XML_OUTPUT_FILE) with one case per test under a root named
"AllTests", which scripts/count_tests.py counts case by case.

    import junit_runner
    sys.exit(0 if junit_runner.run(sys.modules[__name__], "k8s_manifests") else 1)
"""
import os
import unittest
import xml.etree.ElementTree as ET


def run(module, suite_name):
    """Runs the test cases of `module`; True when all passed."""
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    tests = list(_tests(suite))  # running the suite drops its references
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    path = os.environ.get("XML_OUTPUT_FILE")
    if path:
        root = ET.Element("testsuites", name="AllTests")
        suite_element = ET.SubElement(root, "testsuite", name=suite_name)
        failed = {t.id(): tb for t, tb in result.failures + result.errors}
        skipped = {t.id() for t, _ in result.skipped}
        for test in tests:
            case = ET.SubElement(suite_element, "testcase", name=test.id().split(".")[-1],
                                 classname=type(test).__name__,
                                 status="notrun" if test.id() in skipped else "run")
            if test.id() in failed:
                ET.SubElement(case, "failure", message="failed").text = failed[test.id()]
        ET.ElementTree(root).write(path)
    return result.wasSuccessful()


def _tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _tests(t)
        else:
            yield t
