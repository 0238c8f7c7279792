"""Suite-wide settings. Hypothesis deadlines are off: these machines are shared and noisy, and a
property's speed is measured by the benchmarks, not by the tests."""

from hypothesis import HealthCheck, settings

settings.register_profile("hackbot", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("hackbot")
