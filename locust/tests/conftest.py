"""Let `import locust` mean the library in these tests, without gevent-patching the whole test session.

pytest (importlib mode, no __init__.py here) imports this folder as `locust.tests.*` and first registers the
project folder `locust/` as a namespace package named `locust`, shadowing the library. We drop that stand-in
and import the real library once, with LOCUST_SKIP_MONKEY_PATCH set only during the import: these unit tests
run no users, and the other test folders of the session must not run under gevent's monkey patching.
"""

import os
import sys

if getattr(sys.modules.get("locust"), "__file__", None) is None:
    sys.modules.pop("locust", None)
    _previous = os.environ.get("LOCUST_SKIP_MONKEY_PATCH")
    os.environ["LOCUST_SKIP_MONKEY_PATCH"] = "1"
    try:
        import locust  # noqa: F401
    finally:
        if _previous is None:
            del os.environ["LOCUST_SKIP_MONKEY_PATCH"]
        else:
            os.environ["LOCUST_SKIP_MONKEY_PATCH"] = _previous
