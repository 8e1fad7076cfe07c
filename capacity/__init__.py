"""Capacity experiments: sweep the api's CPU, memory, replicas and processes, load each cell, report the answer."""
