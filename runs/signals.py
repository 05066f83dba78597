"""Events of background runs, for the apps that own what a run works on.

runs imports neither app's services: an app that must react to a run's end (e.g.
models_mgmt marking a training run's model version failed) listens here.
"""

from django.dispatch import Signal

# A run reached a terminal state (finished, cancelled or reaped). Sent inside the
# transaction that made the change, so receivers' writes commit with it.
# kwargs: job_id, project_id, kind, status, model_version_id, reason.
run_finished = Signal()

# A failed or cancelled run was queued again as a new attempt. Sent inside the
# transaction that created it; a receiver may raise Conflict to refuse the retry.
# kwargs: job (the new attempt), previous (the run retried).
run_retried = Signal()
