"""The benchmark runner's parts: process plumbing, systems, loadgen driving, one module per scenario, the
report. bench/run.py puts them together."""
