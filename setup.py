"""Package layout for setuptools (the metadata lives in pyproject.toml).

The claims of the validation suite live in the repository's top-level
``validation/`` folder; an installation carries them as ``rmtfp.validation``,
so that rmtfp is the only top-level name it adds to site-packages.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["rmtfp", "rmtfp.*"]), "rmtfp.validation",
              *(f"rmtfp.validation.{name}" for name in find_packages("validation"))],
    package_dir={"rmtfp.validation": "validation"},
    package_data={"rmtfp.validation": ["claims.toml"]},
)
