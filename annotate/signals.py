"""Domain events of the loop, sent by annotate's services after commit.

models_mgmt listens (annotate never imports models_mgmt).
"""

from django.dispatch import Signal

# kwargs: project_id, item_ids
item_created = Signal()
# kwargs: project_id, item_ids
item_approved = Signal()
