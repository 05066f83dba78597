"""HTML forms of models_mgmt: the pipeline settings page (input shape only; the
rules are PipelineSerializer's, applied by models_mgmt.services.pipeline)."""

import json

from django import forms

from annotate.validators import COLD_START_STRATEGIES
from ml.selection import STRATEGIES
from models_mgmt.selectors import PipelineSettings

JSON_FIELDS = ("strategy_params", "model_config", "comparison_config", "trigger_kpi")
# Which box shows an API field's reason ("triggers" by the sub-field it names).
_ERROR_FIELD = {"split": "split_train", "non_field_errors": None}
_TRIGGER_FIELD = {
    "cron": "trigger_cron",
    "every_n_approved": "trigger_every_n_approved",
    "kpi": "trigger_kpi",
}


class JsonTextField(forms.CharField):
    """A JSON object typed into a textarea ("{}" when left empty)."""

    widget = forms.Textarea

    def __init__(self, **kwargs):
        super().__init__(required=False, strip=True, **kwargs)

    def to_python(self, value):
        text = super().to_python(value) or "{}"
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            raise forms.ValidationError("not valid JSON") from None


class PipelineSettingsForm(forms.Form):
    """Every pipeline setting of the page, in the API's shape once cleaned
    (api_data). A bound form shows what was typed, each reason under its box."""

    strategy = forms.ChoiceField(choices=[(s, s) for s in sorted(STRATEGIES)])
    strategy_params = JsonTextField()
    cold_start_strategy = forms.ChoiceField(
        choices=[(s, s) for s in COLD_START_STRATEGIES]
    )
    split_train = forms.FloatField(error_messages={"invalid": "a number"})
    split_val = forms.FloatField(error_messages={"invalid": "a number"})
    split_test = forms.FloatField(error_messages={"invalid": "a number"})
    split_seed = forms.IntegerField(error_messages={"invalid": "an integer"})
    # Empty keeps the saved share (0 unless set).
    consensus_share = forms.FloatField(
        required=False, error_messages={"invalid": "a number from 0 to 1"}
    )
    check_share = forms.FloatField(
        required=False, error_messages={"invalid": "a number from 0 to 1"}
    )
    model_config = JsonTextField()
    comparison_config = JsonTextField()
    trigger_cron = forms.CharField(required=False, max_length=200)
    trigger_every_n_approved = forms.IntegerField(
        required=False, error_messages={"invalid": "an integer, or empty"}
    )
    trigger_kpi = JsonTextField()

    @classmethod
    def initial_from(cls, settings: PipelineSettings) -> dict:
        """The form's initial values: the saved settings."""
        split, triggers = settings.split, settings.triggers
        return {
            "strategy": settings.strategy,
            "strategy_params": json.dumps(settings.strategy_params),
            "cold_start_strategy": settings.cold_start_strategy,
            **{f"split_{k}": v for k, v in split.items()},
            "consensus_share": settings.consensus_share,
            "check_share": settings.check_share,
            "model_config": json.dumps(settings.model_config, indent=1),
            "comparison_config": json.dumps(settings.comparison_config, indent=1),
            "trigger_cron": triggers["cron"],
            "trigger_every_n_approved": triggers["every_n_approved"],
            "trigger_kpi": json.dumps(triggers["kpi"]),
        }

    def api_data(self) -> dict:
        """The cleaned input as a PATCH body of /pipeline/ (call after is_valid)."""
        data = self.cleaned_data
        extra = {
            key: data[key]
            for key in ("consensus_share", "check_share")
            if data.get(key) is not None
        }
        return {
            **extra,
            "strategy": data["strategy"],
            "strategy_params": data["strategy_params"],
            "cold_start_strategy": data["cold_start_strategy"],
            "split": {
                "train": data["split_train"],
                "val": data["split_val"],
                "test": data["split_test"],
                "seed": data["split_seed"],
            },
            "model_config": data["model_config"],
            "comparison_config": data["comparison_config"],
            "triggers": {
                "cron": data["trigger_cron"],
                "every_n_approved": data["trigger_every_n_approved"],
                "kpi": data["trigger_kpi"],
            },
        }

    def add_api_errors(self, message_dict: dict[str, list[str]]) -> None:
        """Show the reasons of a refused update ({API field: [reason]}) under the
        boxes they are about."""
        for field, reasons in message_dict.items():
            for reason in reasons:
                target = _ERROR_FIELD.get(field, field)
                if field == "triggers":
                    sub = reason.split(":", 1)[0].split(".", 1)[0]
                    target = _TRIGGER_FIELD.get(sub, "trigger_kpi")
                if target is not None and target not in self.fields:
                    target = None
                self.add_error(target, reason)

    def reasons(self) -> str:
        """All errors on one line, "field: reason; ..." (the page's summary)."""
        return "; ".join(
            f"{field}: {' '.join(msgs)}" for field, msgs in self.errors.items()
        )


class LabelsForm(forms.Form):
    """`action=labels`: the class names, comma-separated (order = class index)."""

    labels = forms.CharField(max_length=5000, required=False)

    def clean_labels(self) -> list[str]:
        raw = self.cleaned_data["labels"]
        return [x.strip() for x in raw.split(",") if x.strip()]


class GoalForm(forms.Form):
    """`action=goal`: how many ground-truth items the team wants (blank: none).
    The bounds are project_update's (it raises for anything else)."""

    goal = forms.CharField(max_length=20, required=False)

    def clean_goal(self) -> int | None:
        raw = self.cleaned_data["goal"].strip().replace(",", "").replace("_", "")
        if not raw:
            return None
        if not raw.isdigit():
            raise forms.ValidationError("the goal is a whole number of items")
        return int(raw)


class BacktestForm(forms.Form):
    """A backtest request: which strategies (random is always the control) and
    the sizes (checked against the ground truth by backtest_clean)."""

    strategies = forms.MultipleChoiceField(
        choices=[(name, name) for name in STRATEGIES if name != "random"],
        widget=forms.CheckboxSelectMultiple,
        help_text="random is always run as the control",
    )
    initial = forms.IntegerField(min_value=2, max_value=10_000)
    batch = forms.IntegerField(min_value=1, max_value=10_000)
    rounds = forms.IntegerField(min_value=1, max_value=20)
    seeds = forms.IntegerField(min_value=1, max_value=10)


class BaseWeightsForm(forms.Form):
    """Pretrained weights (a .pt) to start training from instead of random init."""

    weights = forms.FileField(help_text="an ultralytics .pt file, e.g. yolov8n.pt")
    name = forms.CharField(max_length=100, required=False)
