#!/usr/bin/env python3
"""Translates the Bazel C++ targets of chosen packages into a CMake fragment.

The CMake build is a mirror of the Bazel build (the one that runs the tests),
used where Bazel is not available: machines with a CUDA LibTorch from pip. To
keep the two from drifting, the mirror is not written by hand: this script
reads the BUILD.bazel files themselves and emits one `simclr_mirror_target()`
call per cc_library / cc_binary, in dependency order. CMakeLists.txt runs it at
configure time and re-runs it when any BUILD.bazel file changes.

What is mirrored:
  * every cc_library and cc_binary that is not testonly in the root packages
    (e.g. model/..., bench/...), plus the libraries they depend on elsewhere
    (e.g. //common:status_macros);
  * every cc_proto_grpc_library (//third_party:proto.bzl), as the same two
    libraries: NAME (messages) and, with grpc = True, NAME_grpc (services),
    emitted as simclr_mirror_proto() calls that run protoc at build time;
  * srcs, hdrs, deps, linkopts, defines and copts;
  * //third_party:<x> dependencies become `EXT:<x>`, which the CMake side maps
    onto imported targets (Torch, Abseil, zlib, ...).
cc_test and testonly targets are left out: Bazel runs the tests.

BUILD files are Starlark; the subset used in this repository is also Python,
so each file is executed with stand-ins for the rule functions.

Usage: bazel_mirror.py --workspace DIR --out FILE ROOT_PACKAGE...
A root ending in "/..." means the package and every package below it.
"""

import argparse
import builtins
import glob as globlib
import os
import sys

CC_KINDS = ("cc_library", "cc_binary", "cc_test")
PROTO_KINDS = ("cc_proto", "cc_proto_grpc")
THIRD_PARTY_PACKAGE = "third_party"


class MirrorError(Exception):
    pass


def _names(code):
    """Every global name `code` and its nested code objects refer to."""
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _names(const)
    return names


def _read_package(workspace, package):
    """Returns {name: rule dict} for the C++ rules of `package`."""
    path = os.path.join(workspace, package, "BUILD.bazel")
    if not os.path.exists(path):
        path = os.path.join(workspace, package, "BUILD")
    if not os.path.exists(path):
        raise MirrorError("no BUILD.bazel in package '%s'" % package)
    rules = {}

    def make_rule(kind):
        def rule(name, **attrs):
            attrs["kind"] = kind
            attrs["name"] = name
            attrs["package"] = package
            rules[name] = attrs
        return rule

    def cc_proto_grpc_library(name, srcs, deps=(), grpc=False, **unused):
        """The two libraries third_party/proto.bzl defines."""
        rules[name] = {"kind": "cc_proto", "name": name, "package": package,
                       "protos": list(srcs),
                       "deps": list(deps) + ["//third_party:protobuf"]}
        if grpc:
            rules[name + "_grpc"] = {
                "kind": "cc_proto_grpc", "name": name + "_grpc",
                "package": package, "protos": list(srcs),
                "deps": [":" + name, "//third_party:grpc"]}

    def glob(include, exclude=(), **unused):
        base = os.path.join(workspace, package)
        found = set()
        for pattern in include:
            for match in globlib.glob(os.path.join(base, pattern),
                                      recursive=True):
                if os.path.isfile(match):
                    found.add(os.path.relpath(match, base))
        for pattern in exclude:
            for match in globlib.glob(os.path.join(base, pattern),
                                      recursive=True):
                found.discard(os.path.relpath(match, base))
        return sorted(found)

    def select(choices, **unused):
        return choices.get("//conditions:default", [])

    stand_ins = {kind: make_rule(kind) for kind in CC_KINDS}
    stand_ins.update(glob=glob, select=select,
                     cc_proto_grpc_library=cc_proto_grpc_library)
    with open(path, encoding="utf-8") as f:
        source = f.read()
    try:
        code = compile(source, path, "exec")
        scope = {"__builtins__": builtins}
        # Rules this script does not mirror (package, load, genrule, ...)
        # become no-ops.
        for name in _names(code):
            if not hasattr(builtins, name):
                scope[name] = lambda *args, **kwargs: None
        scope.update(stand_ins)
        exec(code, scope)
    except Exception as e:  # A BUILD file this script cannot evaluate.
        raise MirrorError("evaluating %s: %s: %s" %
                          (path, type(e).__name__, e)) from e
    return rules


def _resolve(label, package):
    """Resolves a label as written in `package` to (package, name)."""
    if label.startswith("@"):
        raise MirrorError("external label %s in %s is not mirrored" %
                          (label, package))
    if label.startswith(":"):
        return package, label[1:]
    if label.startswith("//"):
        body = label[2:]
        if ":" in body:
            pkg, name = body.split(":", 1)
        else:
            pkg, name = body, body.rsplit("/", 1)[-1]
        return pkg, name
    return package, label  # a bare name: a target in the same package


def cmake_name(package, name):
    return "simclr_" + (package + "_" + name).replace("/", "_").replace(
        "-", "_").replace(".", "_")


def _expand_roots(workspace, roots):
    packages = []
    for root in roots:
        if root.endswith("/..."):
            base = root[:-4]
            for dirpath, dirnames, filenames in os.walk(
                    os.path.join(workspace, base)):
                dirnames[:] = sorted(d for d in dirnames
                                     if not d.startswith((".", "bazel-")))
                if "BUILD.bazel" in filenames or "BUILD" in filenames:
                    packages.append(os.path.relpath(dirpath, workspace))
        else:
            packages.append(root)
    return packages


def build_graph(workspace, roots):
    """Returns the mirrored targets in dependency order (deps first)."""
    cache = {}

    def rules_of(package):
        if package not in cache:
            cache[package] = _read_package(workspace, package)
        return cache[package]

    wanted = []
    for package in _expand_roots(workspace, roots):
        for name, rule in sorted(rules_of(package).items()):
            if rule["kind"] != "cc_test" and not rule.get("testonly", False):
                wanted.append((package, name))

    ordered = []
    state = {}  # key -> "visiting" | "done"

    def visit(key, via):
        if state.get(key) == "done":
            return
        if state.get(key) == "visiting":
            raise MirrorError("dependency cycle through %s:%s" % key)
        package, name = key
        rule = rules_of(package).get(name)
        if rule is None:
            raise MirrorError("//%s:%s (needed by %s) is not a C++ rule" %
                              (package, name, via))
        if rule["kind"] == "cc_test":
            raise MirrorError("//%s:%s is a test, needed by %s" %
                              (package, name, via))
        state[key] = "visiting"
        for dep in rule.get("deps", []):
            dep_key = _resolve(dep, package)
            if dep_key[0] != THIRD_PARTY_PACKAGE:
                visit(dep_key, "//%s:%s" % key)
        state[key] = "done"
        ordered.append(rule)

    for key in wanted:
        visit(key, "the root packages")
    return ordered


def _quote(value):
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace(
        "$", "\\$") + '"'


def _source(package, path):
    if path.startswith((":", "//", "@")):
        raise MirrorError("//%s: generated source %s is not mirrored" %
                          (package, path))
    return '"${SIMCLR_SOURCE_ROOT}/' + _quote(package + "/" + path)[1:]


def _deps(rule):
    deps = []
    for dep in rule.get("deps", []):
        dep_package, dep_name = _resolve(dep, rule["package"])
        if dep_package == THIRD_PARTY_PACKAGE:
            deps.append("EXT:" + dep_name)
        else:
            deps.append(cmake_name(dep_package, dep_name))
    return deps


def _emit_proto(rule):
    package, name = rule["package"], rule["name"]
    fields = [
        ("KIND", ["grpc" if rule["kind"] == "cc_proto_grpc" else "messages"]),
        ("NAME", [cmake_name(package, name)]),
        ("LABEL", ["//%s:%s" % (package, name)]),
        ("PROTOS", [package + "/" + p for p in rule["protos"]]),
        ("DEPS", _deps(rule)),
    ]
    lines = ["simclr_mirror_proto("]
    for key, values in fields:
        lines.append("  %s %s" % (key, " ".join(_quote(v) for v in values)))
    lines.append(")")
    return lines


def emit(rules):
    lines = [
        "# Generated by cmake/bazel_mirror.py from the BUILD.bazel files.",
        "# Do not edit: edit the BUILD.bazel files instead.",
        "",
    ]
    for rule in rules:
        package, name = rule["package"], rule["name"]
        if rule["kind"] in PROTO_KINDS:
            lines.extend(_emit_proto(rule))
            continue
        if rule.get("alwayslink"):
            print("bazel_mirror: //%s:%s: alwayslink is not mirrored" %
                  (package, name), file=sys.stderr)
        deps = _deps(rule)
        fields = [
            ("KIND", ["binary" if rule["kind"] == "cc_binary" else "library"]),
            ("NAME", [cmake_name(package, name)]),
            ("LABEL", ["//%s:%s" % (package, name)]),
            ("PACKAGE", [package]),
            ("OUTPUT_NAME", [name]),
            ("SRCS", [_source(package, s) for s in rule.get("srcs", [])]),
            ("HDRS", [_source(package, s) for s in rule.get("hdrs", [])]),
            ("DEPS", deps),
            ("LINKOPTS", list(rule.get("linkopts", []))),
            ("DEFINES", list(rule.get("defines", []))),
            ("COPTS", list(rule.get("copts", []))),
        ]
        lines.append("simclr_mirror_target(")
        for key, values in fields:
            if values:
                lines.append("  %s %s" % (key, " ".join(
                    v if v.startswith('"${') else _quote(v) for v in values)))
        lines.append(")")
    return "\n".join(lines) + "\n"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("roots", nargs="+")
    args = parser.parse_args(argv)
    try:
        text = emit(build_graph(args.workspace, args.roots))
    except MirrorError as e:
        print("bazel_mirror: " + str(e), file=sys.stderr)
        return 1
    # Rewrite only on change, so that an unchanged mirror does not touch
    # the CMake configure step's inputs.
    if os.path.exists(args.out):
        with open(args.out, encoding="utf-8") as f:
            if f.read() == text:
                return 0
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
