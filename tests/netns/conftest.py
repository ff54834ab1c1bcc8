import os
import shutil

import pytest

from synlab.wire import DP, Wire


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0 and shutil.which("ip") and shutil.which("nft"):
        return
    reason = "network namespace tests need root, iproute2 and nftables"
    for item in items:
        if "tests/netns" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def wire(request):
    if not DP.exists():
        pytest.fail(f"{DP} is not built: run scripts/setup.sh")
    w = Wire(tag=f"{os.getpid() % 10000}{abs(hash(request.node.name)) % 100:02d}")
    w.create()
    yield w
    w.destroy()
