"""`make bench`: the load benchmark (python -m bench.run) and its in-process profiler (python -m bench.profiling)."""
