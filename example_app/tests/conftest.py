"""The example project's own tests enable panther_like's pytest plugin: one line."""

pytest_plugins = ['panther_like.testing.pytest_plugin']
