"""Helpers the tests share: servers on loopback, small pipelines, fixtures."""
