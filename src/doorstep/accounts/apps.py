from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "doorstep.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import tokens
        from .language import on_sign_in

        user_logged_in.connect(on_sign_in, dispatch_uid="doorstep.accounts.language")
        tokens.connect_signals()
