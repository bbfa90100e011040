"""Facts about the package that need no torch: its version (pyproject.toml reads it) and how
to build it (setup.py and the import-time checks say it)."""

__version__ = "0.1.0"

HOW_TO_BUILD = (
    "Build it against the torch in this environment, from the source checkout:\n"
    "    pip install --no-build-isolation -e .\n"
    "(--no-build-isolation matters: the library must be compiled against the torch "
    "that imports it; rebuild after upgrading torch.)"
)
