"""Accessible Vietnamese assistant on disability policy and entitlements (Hà Nội)."""
