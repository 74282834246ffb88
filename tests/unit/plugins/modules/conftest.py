"""Run a module's main() in-process and return its JSON result."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args


@pytest.fixture
def run_module(capsys):
    def run(module, args, check_mode=False, diff=False):
        args = dict(args)
        if check_mode:
            args["_ansible_check_mode"] = True
        if diff:
            args["_ansible_diff"] = True
        capsys.readouterr()
        with patch_module_args(args):
            with pytest.raises(SystemExit) as excinfo:
                module.main()
        out = capsys.readouterr().out
        result = json.loads(out)
        result["_rc"] = excinfo.value.code
        result["_raw"] = out
        return result

    return run
