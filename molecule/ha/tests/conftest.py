"""The ha scenario's tests use the install scenarios' helpers and fixtures
(molecule/resources/tests/conftest.py), loaded under another module name."""

import importlib.util
import pathlib

_spec = importlib.util.spec_from_file_location(
    "lab_common", pathlib.Path(__file__).resolve().parents[2] / "resources" / "tests" / "conftest.py")
lab_common = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lab_common)

app_host = lab_common.app_host
zuliprc = lab_common.zuliprc
