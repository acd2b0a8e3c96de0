from django.apps import AppConfig


class OpsConfig(AppConfig):
    """The commands that span every app: the worker, the demo and the synthetic city.

    They sit above all the domain apps (the import-linter contract in pyproject.toml), so no
    domain app imports another one's data loader or timed work.
    """

    name = "doorstep.ops"
    verbose_name = "operations"
