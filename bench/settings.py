"""Settings of the benchmark's web server: the project's, plus the bare comparison view's URLconf.

The bare view lives only here, never in the production URLs.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
