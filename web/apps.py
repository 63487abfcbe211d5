from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class WebConfig(AppConfig):
    name = "web"
    verbose_name = "页面"

    def ready(self) -> None:
        checks.register(check_account_settings)


def check_account_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    from units.models import Role

    errors = []
    unknown = sorted(set(settings.OTP_REQUIRED_ROLES) - set(Role.values))
    if unknown:
        errors.append(
            checks.Error(
                f"OTP_REQUIRED_ROLES names unknown roles: {', '.join(unknown)}",
                hint=f"Use roles among: {', '.join(Role.values)}",
                id="web.E001",
            )
        )
    # web.lockout reads the counts in this order: the pair's, then the address's.
    if settings.AXES_LOCKOUT_PARAMETERS != [["username", "ip_address"], "ip_address"]:
        errors.append(
            checks.Error(
                "web.lockout expects AXES_LOCKOUT_PARAMETERS = [['username', 'ip_address'], 'ip_address']",
                id="web.E002",
            )
        )
    return errors
