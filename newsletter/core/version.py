"""The installed version, read from the package's metadata (`pyproject.toml`)."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("newsletter")
except PackageNotFoundError:  # run from a source tree that was never installed
    VERSION = "0+unknown"
