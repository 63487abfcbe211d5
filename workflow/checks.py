"""System checks of the workflow's settings: a mistyped environment variable stops `manage.py check`,
`migrate` and `runserver` with a message that names it, instead of failing a sweep every minute."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from workflow.deadlines import office_hours


@checks.register()
def check_office_hours(app_configs, **kwargs) -> list[checks.CheckMessage]:
    try:
        office_hours(settings.REMINDER_OFFICE_HOURS)
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="workflow.E001")]
    return []
