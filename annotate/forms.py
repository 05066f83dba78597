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


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=[(r.value, r.label) for r in Role])

    def clean_username(self):
        name = self.cleaned_data["username"]
        user = get_user_model().objects.filter(username=name, is_active=True).first()
        if user is None:
            raise forms.ValidationError("no active user with that name")
        return user


class MemberRemoveForm(forms.Form):
    """`action=remove`: the member to remove, by user id."""

    user_id = forms.IntegerField(min_value=1, max_value=INT64_MAX)
