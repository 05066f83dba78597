"""Names of the django-q2 clusters (queues) that runs are sent to.

Housekeeping (the reaper and every schedule) runs on the default cluster
(Q_CLUSTER["name"]), so no long task can delay it; training has a cluster of its
own; scoring, exports, imports and KPI checks share the "work" cluster. Each name
here must be a key of Q_CLUSTER["ALT_CLUSTERS"] (checked at start-up).
"""

TRAINING = "training"
WORK = "work"
NAMED = (TRAINING, WORK)
