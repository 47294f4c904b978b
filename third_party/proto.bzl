"""C++ code from .proto files with Debian's protoc and grpc_cpp_plugin.

    cc_proto_grpc_library(
        name = "job_cc",
        srcs = ["job.proto"],
        deps = [],          # other cc_proto_grpc_library targets it imports
        grpc = False,       # True also generates *.grpc.pb.{h,cc} for services
    )

Imports are resolved from the workspace root, so `import "proto/simclr/v1/job.proto"`.
"""

def cc_proto_grpc_library(name, srcs, deps = [], grpc = False, visibility = None):
    bases = [s[:-len(".proto")] for s in srcs]
    pkg = native.package_name()
    outs = [b + ".pb.h" for b in bases] + [b + ".pb.cc" for b in bases]
    if grpc:
        outs += [b + ".grpc.pb.h" for b in bases] + [b + ".grpc.pb.cc" for b in bases]

    proto_deps = [d + "_protos" for d in deps]
    native.filegroup(
        name = name + "_protos",
        srcs = srcs + proto_deps,
        visibility = visibility,
    )

    cmd = "/usr/bin/protoc --proto_path=. --cpp_out=$(GENDIR)"
    if grpc:
        cmd += " --grpc_out=$(GENDIR) --plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin"
    cmd += " " + " ".join(["%s/%s" % (pkg, s) for s in srcs])

    native.genrule(
        name = name + "_gen",
        srcs = srcs + proto_deps,
        outs = outs,
        cmd = cmd,
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + ["//third_party:protobuf"] + (["//third_party:grpc"] if grpc else []),
        visibility = visibility,
    )
