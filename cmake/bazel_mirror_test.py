#!/usr/bin/env python3
"""Tests of cmake/bazel_mirror.py on small synthetic workspaces."""

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bazel_mirror  # noqa: E402


class BazelMirrorTest(unittest.TestCase):

    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        self.root = self._dir.name

    def tearDown(self):
        self._dir.cleanup()

    def write(self, path, text=""):
        full = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(text))

    def labels(self, rules):
        return ["//%s:%s" % (r["package"], r["name"]) for r in rules]

    def test_orders_dependencies_first_and_pulls_in_other_packages(self):
        self.write("common/BUILD.bazel", """
            cc_library(name = "macros", hdrs = ["macros.h"],
                       deps = ["//third_party:abseil"])
            cc_library(name = "unused", hdrs = ["unused.h"])
            """)
        self.write("model/nn/BUILD.bazel", """
            load("@rules_cc//cc:defs.bzl", "cc_library")
            package(default_visibility = ["//visibility:public"])
            cc_binary(name = "tool", srcs = ["main.cc"], deps = [":net"])
            cc_library(name = "net", srcs = ["net.cc"], hdrs = ["net.h"],
                       deps = ["//common:macros", "//third_party:torch"],
                       linkopts = ["-ljpeg"])
            """)
        rules = bazel_mirror.build_graph(self.root, ["model/..."])
        self.assertEqual(self.labels(rules),
                         ["//common:macros", "//model/nn:net",
                          "//model/nn:tool"])
        text = bazel_mirror.emit(rules)
        self.assertIn('DEPS "simclr_common_macros" "EXT:torch"', text)
        self.assertIn('LINKOPTS "-ljpeg"', text)
        self.assertIn('KIND "binary"', text)
        self.assertIn('OUTPUT_NAME "tool"', text)
        self.assertIn('SRCS "${SIMCLR_SOURCE_ROOT}/model/nn/net.cc"', text)

    def test_mirrors_proto_libraries_as_messages_and_services(self):
        self.write("proto/BUILD.bazel", """
            load("//third_party:proto.bzl", "cc_proto_grpc_library")
            cc_proto_grpc_library(name = "job_cc", srcs = ["job.proto"])
            cc_proto_grpc_library(name = "api_cc", srcs = ["api.proto"],
                                  grpc = True, deps = [":job_cc"])
            """)
        self.write("client/BUILD.bazel", """
            cc_binary(name = "ctl", srcs = ["main.cc"],
                      deps = ["//proto:api_cc_grpc"])
            """)
        rules = bazel_mirror.build_graph(self.root, ["client"])
        self.assertEqual(self.labels(rules),
                         ["//proto:job_cc", "//proto:api_cc",
                          "//proto:api_cc_grpc", "//client:ctl"])
        text = bazel_mirror.emit(rules)
        self.assertIn('KIND "messages"\n  NAME "simclr_proto_job_cc"', text)
        self.assertIn('PROTOS "proto/api.proto"\n'
                      '  DEPS "simclr_proto_job_cc" "EXT:protobuf"', text)
        self.assertIn('KIND "grpc"\n  NAME "simclr_proto_api_cc_grpc"', text)
        self.assertIn('DEPS "simclr_proto_api_cc" "EXT:grpc"', text)
        self.assertIn('DEPS "simclr_proto_api_cc_grpc"', text)

    def test_leaves_out_tests_and_testonly_libraries(self):
        self.write("model/BUILD.bazel", """
            cc_library(name = "lib", srcs = ["lib.cc"])
            cc_library(name = "fake", testonly = True, srcs = ["fake.cc"],
                       deps = [":lib"])
            cc_test(name = "lib_test", srcs = ["lib_test.cc"],
                    deps = [":fake", "//third_party:gtest_main"])
            """)
        rules = bazel_mirror.build_graph(self.root, ["model/..."])
        self.assertEqual(self.labels(rules), ["//model:lib"])

    def test_evaluates_glob_and_list_comprehensions(self):
        self.write("model/a.cc")
        self.write("model/b.cc")
        self.write("model/b_test.cc")
        self.write("model/BUILD.bazel", """
            NAMES = ["x", "y"]
            [cc_library(name = n, hdrs = [n + ".h"]) for n in NAMES]
            cc_library(name = "all",
                       srcs = glob(["*.cc"], exclude = ["*_test.cc"]),
                       deps = [":" + n for n in NAMES])
            """)
        rules = bazel_mirror.build_graph(self.root, ["model"])
        self.assertEqual(self.labels(rules),
                         ["//model:x", "//model:y", "//model:all"])
        self.assertEqual(rules[-1]["srcs"], ["a.cc", "b.cc"])

    def test_rejects_a_dependency_cycle(self):
        self.write("model/BUILD.bazel", """
            cc_library(name = "a", deps = [":b"])
            cc_library(name = "b", deps = [":a"])
            """)
        with self.assertRaisesRegex(bazel_mirror.MirrorError, "cycle"):
            bazel_mirror.build_graph(self.root, ["model"])

    def test_rejects_a_library_that_depends_on_a_test(self):
        self.write("model/BUILD.bazel", """
            cc_library(name = "a", deps = [":t"])
            cc_test(name = "t", srcs = ["t.cc"])
            """)
        with self.assertRaisesRegex(bazel_mirror.MirrorError, "is a test"):
            bazel_mirror.build_graph(self.root, ["model"])

    def test_command_line_reports_a_missing_package(self):
        self.write("model/BUILD.bazel", """
            cc_library(name = "a", deps = ["//nowhere:lib"])
            """)
        out = os.path.join(self.root, "mirror.cmake")
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "bazel_mirror.py")
        result = subprocess.run(
            [sys.executable, script, "--workspace", self.root, "--out", out,
             "model/..."], capture_output=True, text=True)
        self.assertEqual(result.returncode, 1)
        self.assertIn("no BUILD.bazel in package 'nowhere'", result.stderr)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
