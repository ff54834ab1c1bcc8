"""synwall's benchmark harness: `bash scripts/bench.sh` or `python -m bench`."""
