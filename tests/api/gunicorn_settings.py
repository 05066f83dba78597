"""Settings for tests/api/test_keepalive_gunicorn.py: the test settings, small limits.

The upload and import limits come from the environment like in production
(ALWEB_MAX_UPLOAD_BYTES, ALWEB_MAX_IMPORT_BYTES); the body limit Django enforces
itself is read from ALWEB_TEST_MAX_BODY_BYTES so the test can keep all three small.
"""

import os

from alweb.settings_test import *  # noqa: F403

DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ["ALWEB_TEST_MAX_BODY_BYTES"])
