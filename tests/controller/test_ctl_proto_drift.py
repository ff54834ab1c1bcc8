"""The committed generated code is what scripts/gen_proto.sh makes from proto/ today."""

import filecmp
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GENERATED = ["synwall/v1/admin_pb2.py", "synwall/v1/admin_pb2.pyi",
             "synwall/v1/admin_pb2_grpc.py", "synwall/dp/v1/dataplane_pb2.py",
             "synwall/dp/v1/dataplane_pb2.pyi"]


def test_generated_code_matches_the_protos(tmp_path):
    r = subprocess.run(["bash", str(REPO / "scripts" / "gen_proto.sh"), str(tmp_path)],
                       capture_output=True, text=True, env={"PYTHON": sys.executable,
                                                            "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    made = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.py*"))
    assert made == sorted(GENERATED), "gen_proto.sh made %s" % made
    stale = [f for f in GENERATED
             if not filecmp.cmp(tmp_path / f, REPO / "pyctl" / f, shallow=False)]
    assert not stale, ("generated code out of date (run `bash scripts/gen_proto.sh` and "
                       "commit): %s" % stale)


def test_package_imports_the_generated_modules_by_proto_path():
    from synwall.dp.v1 import dataplane_pb2
    from synwall.v1 import admin_pb2, admin_pb2_grpc
    assert admin_pb2.DESCRIPTOR.name == "synwall/v1/admin.proto"
    assert dataplane_pb2.DESCRIPTOR.name == "synwall/dp/v1/dataplane.proto"
    assert hasattr(admin_pb2_grpc, "AdminStub")
