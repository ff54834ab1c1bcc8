"""synwall's benchmark harness (issue 5): `bash scripts/bench.sh` or `python -m bench`."""
