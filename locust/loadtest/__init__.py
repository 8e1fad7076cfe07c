"""Locust load test for the penguin API: payloads, checks, load shapes, generator telemetry and run summary."""
