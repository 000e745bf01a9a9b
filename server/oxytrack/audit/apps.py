from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "oxytrack.audit"
    label = "audit"

    def ready(self) -> None:
        # Imported first, this connects axes's user_login_failed receiver before
        # ours: a lock-out is then recorded before the failure (see signals._ATTEMPT).
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from oxytrack.audit import signals

        # dispatch_uid: one entry per event even if ready() runs twice.
        user_logged_in.connect(signals.on_logged_in, dispatch_uid="audit_login")
        user_logged_out.connect(signals.on_logged_out, dispatch_uid="audit_logout")
        user_login_failed.connect(signals.on_login_failed, dispatch_uid="audit_login_failed")
        user_locked_out.connect(signals.on_locked_out, dispatch_uid="audit_lockout")
