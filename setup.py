"""Map the product owner's top-level folders into the single import root ``ledger``.

``projections/``, ``api/`` and ``tools/`` live at the repository root (the agreed layout) but
import as ``ledger.projections``, ``ledger.api`` and ``ledger.tools``. Sub-packages are found
automatically so nothing can be silently left out of the wheel (see tests/unit/test_packaging.py).
"""

from setuptools import find_packages, setup

MAPPED = {"ledger.projections": "projections", "ledger.api": "api", "ledger.tools": "tools"}

packages = find_packages("src")
for name, folder in MAPPED.items():
    packages += [name, *(f"{name}.{sub}" for sub in find_packages(folder))]

setup(
    packages=packages,
    package_dir={"": "src", **MAPPED},
    package_data={"ledger": ["py.typed"]},
)
