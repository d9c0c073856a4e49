"""The channel-independent core: knowledge, matching, dialogue, entitlements. No I/O to networks."""
