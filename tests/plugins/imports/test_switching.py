"""``switching.import_switch_interval``: the thread switch interval is shortened while
imports run (the writer's round trips do not wait 5 ms each for the parsing thread's
GIL) and the process's own comes back when the last import ends, also on errors.
(Every import test checks the latter too: conftest's ``switch_interval_restored``.)"""

import sys

import pytest

from contacts_api.plugins.imports.switching import (
    IMPORT_SWITCH_INTERVAL_S,
    import_switch_interval,
)


@pytest.fixture
def default_interval():
    saved = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield
    sys.setswitchinterval(saved)


def test_the_interval_is_short_while_imports_run_and_restored_after_the_last(default_interval):
    with import_switch_interval():
        assert sys.getswitchinterval() == pytest.approx(IMPORT_SWITCH_INTERVAL_S, rel=0.05)
        with import_switch_interval():  # a second import at once
            assert sys.getswitchinterval() == pytest.approx(IMPORT_SWITCH_INTERVAL_S, rel=0.05)
        # the first import still runs
        assert sys.getswitchinterval() == pytest.approx(IMPORT_SWITCH_INTERVAL_S, rel=0.05)
    assert sys.getswitchinterval() == pytest.approx(0.005, rel=0.05)


def test_a_failing_import_restores_the_interval(default_interval):
    with pytest.raises(RuntimeError), import_switch_interval():
        raise RuntimeError("the import failed")
    assert sys.getswitchinterval() == pytest.approx(0.005, rel=0.05)


def test_a_shorter_interval_of_the_process_is_kept(default_interval):
    sys.setswitchinterval(0.0001)
    with import_switch_interval():
        assert sys.getswitchinterval() == pytest.approx(0.0001, rel=0.05)
    assert sys.getswitchinterval() == pytest.approx(0.0001, rel=0.05)
