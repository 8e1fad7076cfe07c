"""The native backend: API processes on this machine, pinned with taskset, watched with psutil."""
