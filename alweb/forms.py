"""Forms of the account pages: the invite's first password, the token page's
password check."""

from django import forms
from django.contrib.auth.forms import SetPasswordForm


class InvitePasswordForm(SetPasswordForm):
    """The first password of an invited account, checked by the
    AUTH_PASSWORD_VALIDATORS; a refused one is shown again as typed, so the
    user sees what the reasons are about (the page is never cached)."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        for name in ("new_password1", "new_password2"):
            self.fields[name].widget.render_value = True


class ApiTokenForm(forms.Form):
    """`create`: a new key (the password again: a session left open must not
    hand out a key); `revoke`: delete the key."""

    action = forms.ChoiceField(choices=[("create", "create"), ("revoke", "revoke")])
    password = forms.CharField(required=False, strip=False, widget=forms.PasswordInput)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "create" and not cleaned.get("password"):
            self.add_error("password", "enter your password to make a key")
        return cleaned
