"""The fixtures of tests/jobs (defined in ops_sites, with the helpers they use)."""

from jobs.ops_sites import processes, redis_url

__all__ = ["processes", "redis_url"]
