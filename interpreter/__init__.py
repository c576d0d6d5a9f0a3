"""Policy-as-data interpreter."""
