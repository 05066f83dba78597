"""Domain events of annotate (project created; items created and approved, sent
after commit).

models_mgmt listens (annotate never imports models_mgmt).
"""

from django.dispatch import Signal

# kwargs: project. Sent inside the transaction that creates the project, so that
# the rows receivers make for it (models_mgmt's training settings) commit with it.
project_created = Signal()
# kwargs: project. Sent inside the transaction that deletes the project, before
# the rows go: receivers schedule removal of the files they keep for it
# (alweb.files: after commit only).
project_deleting = Signal()

# kwargs: project_id, item_ids
item_created = Signal()
# kwargs: project_id, item_ids
item_approved = Signal()
# kwargs: project_id, item_ids, splits ({item id: the split it keeps}). Sent after
# commit when done items are reopened for correction: evaluations that scored
# them describe labels that are no longer the ground truth.
item_reopened = Signal()
