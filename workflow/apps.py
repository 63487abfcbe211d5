from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "workflow"
    verbose_name = "流转"

    def ready(self) -> None:
        from workflow import checks  # noqa: F401 (registers the system checks)
