"""C++ code from .proto files with Debian's protoc and grpc_cpp_plugin.

    cc_proto_grpc_library(
        name = "job_cc",
        srcs = ["job.proto"],
        deps = [],          # other cc_proto_grpc_library targets it imports
        grpc = False,       # True also makes job_cc_grpc: *.grpc.pb.{h,cc} for services
    )

`name` holds the messages and links protobuf only, so a process that reads and
writes these messages without speaking gRPC (the trainer) does not link gRPC;
`name + "_grpc"` adds the service stubs. Imports are resolved from the
workspace root, so `import "proto/simclr/v1/job.proto"`.
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
    messages = [b + ".pb" for b in bases]
    native.cc_library(
        name = name,
        srcs = [m + ".cc" for m in messages],
        hdrs = [m + ".h" for m in messages],
        deps = deps + ["//third_party:protobuf"],
        visibility = visibility,
    )
    if grpc:
        services = [b + ".grpc.pb" for b in bases]
        native.cc_library(
            name = name + "_grpc",
            srcs = [s + ".cc" for s in services],
            hdrs = [s + ".h" for s in services],
            deps = [":" + name, "//third_party:grpc"],
            visibility = visibility,
        )
