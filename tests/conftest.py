from hypothesis import HealthCheck, settings

# the default keeps the suite quick; run `pytest --hypothesis-profile=thorough` to search longer
settings.register_profile("default", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")
