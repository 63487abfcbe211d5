from django.db import models
from django.utils.translation import gettext_lazy as _


class PasswordResetRequest(models.Model):
    """One password reset mail asked for: the table behind the reset limits (web.accounts).

    A table, not the cache: the limits hold across every web process, and the default cache is
    per process. The email address is kept only as a keyed hash: the count needs no more.
    """

    requested_at = models.DateTimeField()
    address = models.GenericIPAddressField()
    account = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("密码重置请求")
        verbose_name_plural = _("密码重置请求")
        indexes = [
            models.Index(fields=["address", "requested_at"], name="reset_by_address"),
            models.Index(fields=["account", "requested_at"], name="reset_by_account"),
        ]

    def __str__(self) -> str:
        return f"{self.address} {self.requested_at:%Y-%m-%d %H:%M}"
