#!/usr/bin/env bash
# Regenerates the controller's protobuf/gRPC code from proto/ into pyctl/ (or into DIR).
#
#   bash scripts/gen_proto.sh [DIR]
#
# The generated modules are committed (pyctl/synwall/v1/admin_pb2*.py,
# pyctl/synwall/dp/v1/dataplane_pb2*.py); tests/controller/test_proto_drift.py regenerates
# them into a temporary directory and fails if they differ. The proto path is the import
# path: proto/synwall/v1/admin.proto -> synwall.v1.admin_pb2. grpcio-tools is pinned in
# pyctl/pyproject.toml (extra "dev"), so the output depends only on the .proto files.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-pyctl}
python=${PYTHON:-.venv/bin/python}
[ -x "$python" ] || python=python3
mkdir -p "$out"

# The public admin API: messages and the gRPC service.
"$python" -m grpc_tools.protoc -I proto --python_out="$out" --pyi_out="$out" \
    --grpc_python_out="$out" proto/synwall/v1/admin.proto
# Controller <-> dataplane messages: no gRPC service, messages only.
"$python" -m grpc_tools.protoc -I proto --python_out="$out" --pyi_out="$out" \
    proto/synwall/dp/v1/dataplane.proto
