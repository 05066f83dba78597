"""HTML forms of the annotate app: input shape and validation only."""

from django import forms
from django.contrib.auth import get_user_model

from alweb.roles import Role

INT64_MAX = 2**63 - 1  # the largest id the database stores


class ProjectCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    labels = forms.CharField(
        max_length=5000, help_text="Comma-separated class names, e.g. car, person, sign"
    )
    kinds = forms.MultipleChoiceField(
        choices=[("box", "Boxes"), ("polygon", "Polygons")],
        widget=forms.CheckboxSelectMultiple,
        initial=["box", "polygon"],
    )

    def clean_labels(self):
        labels = [part.strip() for part in self.cleaned_data["labels"].split(",")]
        labels = [label for label in labels if label]
        if not labels:
            raise forms.ValidationError("at least one label is required")
        return labels


# The role is always chosen: a blank first choice, never a default of owner.
ROLE_CHOICES = [("", "Choose a role"), *((r.value, r.label) for r in Role)]


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=ROLE_CHOICES)

    def clean_username(self):
        name = self.cleaned_data["username"]
        user = get_user_model().objects.filter(username=name, is_active=True).first()
        if user is None:
            raise forms.ValidationError("no active user with that name")
        return user


class MemberRemoveForm(forms.Form):
    """`action=remove`: the member to remove, by user id."""

    user_id = forms.IntegerField(min_value=1, max_value=INT64_MAX)


class AccountCreateForm(forms.Form):
    """`action=create`: a new account joining the project (the service checks
    the name against the User model and the names taken)."""

    new_username = forms.CharField(max_length=150, label="New username")
    new_role = forms.ChoiceField(choices=ROLE_CHOICES, label="Role")
    access = forms.ChoiceField(
        choices=[
            ("invite", "Invite link (they set their password)"),
            ("password", "Generated password (shown once)"),
        ],
        initial="invite",
        widget=forms.RadioSelect,
    )


EVENT_YEARS = (1970, 9998)  # dates outside cannot hold an event


def _event_day(day):
    if day is not None and not EVENT_YEARS[0] <= day.year <= EVENT_YEARS[1]:
        raise forms.ValidationError(
            f"must be a date from {EVENT_YEARS[0]} to {EVENT_YEARS[1]}"
        )
    return day


class EventFilterForm(forms.Form):
    """The event log's filters and its position (`before`: an event id; the page
    lists the events older than it)."""

    kind = forms.ChoiceField(required=False)
    user = forms.ChoiceField(required=False)
    before = forms.IntegerField(required=False, min_value=1, max_value=INT64_MAX)
    # From and to, whole days in the site's time zone, both included.
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_since(self):
        return _event_day(self.cleaned_data.get("since"))

    def clean_until(self):
        return _event_day(self.cleaned_data.get("until"))

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "must not be before the From date")
        return data

    def __init__(self, data, *, kinds, members):
        super().__init__(data)
        self.fields["kind"].choices = [("", "Any kind"), *((k, k) for k in kinds)]
        self.fields["user"].choices = [
            ("", "Anyone"),
            ("system", "System (no user)"),
            *((str(u.pk), u.username) for u in members),
        ]
