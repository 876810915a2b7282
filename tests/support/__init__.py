"""Test helpers: real processes, fault-injecting proxies, test renderers."""
